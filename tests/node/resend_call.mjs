// One call of Resend's official Node.js SDK, unchanged: `node resend_call.mjs METHOD [ARG...]`
// calls resend.domains.METHOD with the arguments given as JSON and prints what the SDK returned
// ({data, error}: it never throws) as JSON. The SDK finds the sandbox the way a user points it
// anywhere: RESEND_BASE_URL, and its key in RESEND_API_KEY.
import { Resend } from "resend";

const [method, ...args] = process.argv.slice(2);
const { data, error } = await new Resend().domains[method](...args.map((arg) => JSON.parse(arg)));
console.log(JSON.stringify({ data, error }));

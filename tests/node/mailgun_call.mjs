// One call of Mailgun's official Node.js SDK (mailgun.js), unchanged:
// `node mailgun_call.mjs METHOD [ARG...]` calls client.domains.METHOD with the arguments given as
// JSON and prints {"answer": what it returned} or {"thrown": the MailgunAPIError's status,
// details and message} as JSON. The client is pointed at the sandbox by its `url` option
// (MAILGUN_URL here) and given its key (MAILGUN_KEY), as a user configures it.
import Mailgun from "mailgun.js";

const [method, ...args] = process.argv.slice(2);
const { MAILGUN_URL: url, MAILGUN_KEY: key } = process.env;
const domains = new Mailgun(FormData).client({ username: "api", key, url }).domains;
try {
  const answer = await domains[method](...args.map((arg) => JSON.parse(arg)));
  console.log(JSON.stringify({ answer }));
} catch (error) {
  const { status, details, message } = error;
  console.log(JSON.stringify({ thrown: { status, details, message } }));
}

// One call of Amazon's official Node.js SDK for SES v2 (@aws-sdk/client-sesv2), unchanged:
// `node ses_call.mjs COMMAND [INPUT]` sends the COMMAND's Command (CreateEmailIdentity...) with
// the INPUT given as JSON and prints {"answer": its output, less $metadata} or {"thrown": the
// exception's name, HTTP status and message} as JSON. The client is pointed at the sandbox by its
// `endpoint` option (SES_URL here) and signs with the credentials in AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, as a user configures it.
import * as sesv2 from "@aws-sdk/client-sesv2";

const [command, input = "{}"] = process.argv.slice(2);
const client = new sesv2.SESv2Client({ endpoint: process.env.SES_URL, region: "eu-west-1" });
try {
  const { $metadata, ...answer } = await client.send(
    new sesv2[`${command}Command`](JSON.parse(input)),
  );
  console.log(JSON.stringify({ answer }));
} catch (error) {
  const { name, message } = error;
  console.log(JSON.stringify({ thrown: { name, status: error.$metadata?.httpStatusCode, message } }));
}

// Verifies Tessera's webhook deliveries with the Standard Webhooks reference library.
// stdin: {"secret": "whsec_…", "messages": [{"headers": {…}, "body": "…"}]}
// stdout: {"verified": [payload…], "refused": [index…]}
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { secret, messages } = JSON.parse(input);
const wh = new Webhook(secret);
const verified = [];
const refused = [];
messages.forEach((m, i) => {
  try {
    verified.push(wh.verify(m.body, m.headers));
  } catch (e) {
    refused.push(i);
  }
});
process.stdout.write(JSON.stringify({ verified, refused }));

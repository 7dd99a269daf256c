// Posts pre-signed webhooks as fast as one channels process takes them, so the load generator is not
// what the benchmark measures (bench/channels.py): Node's own http client, keep-alive connections,
// `concurrency` senders each with one request in flight, bodies signed beforehand by the benchmark.
//
// node bench/send_webhooks.mjs <requests.jsonl> <concurrency>
// Each line: {"url": "...", "headers": {...}, "body": "..."}. Prints one JSON line:
// {"sent", "ok", "refused", "retried", "seconds", "statuses"}; a request whose connection broke is
// sent again (as a store does), at most three times.
import { readFileSync } from "node:fs";
import http from "node:http";

const [file, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg || 32);
const requests = readFileSync(file, "utf8")
  .split("\n")
  .filter((line) => line.length > 0)
  .map((line) => {
    const r = JSON.parse(line);
    const body = Buffer.from(r.body, "utf8");
    return { url: new URL(r.url), headers: { ...r.headers, "Content-Length": body.length }, body };
  });
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function post(r) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, method: "POST", host: r.url.hostname, port: r.url.port, path: r.url.pathname, headers: r.headers },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(r.body);
  });
}

let next = 0;
let ok = 0;
let retried = 0;
const statuses = {};
async function sender() {
  while (next < requests.length) {
    const r = requests[next++];
    for (let attempt = 1; ; attempt++) {
      try {
        const status = await post(r);
        statuses[status] = (statuses[status] || 0) + 1;
        ok += status === 200 ? 1 : 0;
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        retried++;
      }
    }
  }
}

const started = process.hrtime.bigint();
await Promise.all(Array.from({ length: concurrency }, sender));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
agent.destroy();
console.log(
  JSON.stringify({ sent: requests.length, ok, refused: requests.length - ok, retried, seconds, statuses }),
);

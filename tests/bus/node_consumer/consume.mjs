// Consumes one Pivotal Flow event from RabbitMQ and prints it as JSON: CloudEvents attributes
// from the AMQP headers, fields decoded with protobufjs from the contracts in proto/.
//
//   node consume.mjs AMQP_URL EXCHANGE ROUTING_KEY REPOSITORY_ROOT
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import amqp from "amqplib";
import protobuf from "protobufjs";

const [url, exchange, routingKey, repositoryRoot] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const includePaths = [
  path.join(repositoryRoot, "proto"),
  path.join(repositoryRoot, "build", "third_party"),
  path.join(here, "node_modules", "protobufjs"),
];

const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  if (path.isAbsolute(target)) return target;
  for (const include of includePaths) {
    const candidate = path.join(include, target);
    if (fs.existsSync(candidate)) return candidate;
  }
  return protobuf.util.path.resolve(origin, target);
};
const typeName = routingKey;
const file = `pivotal/${typeName.split(".")[1]}/v1/events.proto`;
await root.load(file, { keepCase: true });
root.resolveAll();

const connection = await amqp.connect(url);
const channel = await connection.createChannel();
const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
await channel.bindQueue(queue, exchange, routingKey);
const timer = setTimeout(() => {
  console.error("no event within 30 s");
  process.exit(2);
}, 30_000);

await channel.consume(queue, async (message) => {
  const headers = message.properties.headers;
  const type = root.lookupType(String(headers["cloudEvents:type"]));
  const event = type.decode(message.content);
  console.log(JSON.stringify({
    routingKey: message.fields.routingKey,
    contentType: message.properties.contentType,
    cloudEvents: Object.fromEntries(Object.entries(headers)
      .filter(([key]) => key.startsWith("cloudEvents:"))
      .map(([key, value]) => [key.slice("cloudEvents:".length), String(value)])),
    traceparent: headers.traceparent === undefined ? null : String(headers.traceparent),
    fields: type.toObject(event, { longs: String, enums: String }),
  }));
  channel.ack(message);
  clearTimeout(timer);
  await connection.close();
  process.exit(0);
});
console.log("READY");

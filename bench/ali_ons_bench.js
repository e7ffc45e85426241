'use strict';
// Reference numbers for bench/client_bench.cc: ali-ons (the npm RocketMQ client) producing and
// consuming against the same embedded broker.
//
//   node ali_ons_bench.js produce|consume --namesrv H:P --topic T --count N --size S --concurrency C
//
// Prints one line: "ali-ons <what>: msgs/s <n>". Needs ali-ons on NODE_PATH (tests/e2e/ali_ons
// installs it with `npm ci`).
const { Producer, Consumer, Message } = require('ali-ons');

const args = { count: '20000', size: '1024', concurrency: '64' };
const argv = process.argv.slice(2);
args.what = argv[0];
for (let i = 1; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
const count = Number(args.count);
const size = Number(args.size);
const concurrency = Number(args.concurrency);
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const options = {
  nameSrv: args.namesrv,
  httpclient: { request: async () => { throw new Error('no HTTP address server'); } },
  logger: quiet,
};

async function produce() {
  const producer = new Producer(Object.assign({ producerGroup: 'ali_ons_bench_producer' }, options));
  producer.on('error', () => {});
  await producer.ready();
  const body = Buffer.alloc(size, 'x');
  await producer.send(new Message(args.topic, 'TagA', body)); // warm the route
  let next = 0;
  const start = process.hrtime.bigint();
  async function worker() {
    while (next < count) {
      next++;
      await producer.send(new Message(args.topic, 'TagA', body));
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`ali-ons produce: msgs/s ${Math.round(count / seconds)}`);
  await producer.close();
}

async function consume() {
  const consumer = new Consumer(Object.assign({
    consumerGroup: `ali_ons_bench_${process.pid}`,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    parallelConsumeLimit: 32,
  }, options));
  consumer.on('error', () => {});
  let received = 0;
  let start = null;
  await new Promise(resolve => {
    consumer.subscribe(args.topic, '*', async msg => {
      if (start === null) start = process.hrtime.bigint();
      // Interop check (client tests): every body arrives whole, inflated if it was compressed.
      if (msg.body.length !== size) {
        console.error(`FAIL: body of ${msg.body.length} bytes, want ${size}`);
        process.exit(1);
      }
      if (++received === count) resolve();
    });
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`ali-ons consume: msgs/s ${Math.round(count / seconds)}`);
  await consumer.close();
}

(args.what === 'consume' ? consume() : produce()).then(
  () => process.exit(0),
  err => { console.error(`ali-ons bench failed: ${err && err.stack}`); process.exit(1); });

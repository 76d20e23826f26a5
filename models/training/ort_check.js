// Runs an ONNX model with ONNX Runtime (the npm package onnxruntime-node, same native library as the C# stage)
// on a raw float32 input, writes the raw float32 output and prints the median latency.
// node ort_check.js MODEL INPUT.f32 D0,D1,... OUTPUT.f32 [THREADS] [RUNS]
// Needs NODE_PATH pointing at a folder holding onnxruntime-node and onnxruntime-common (see models/README.md).
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, dimsText, output, threadsText, runsText] = process.argv.slice(2);
  const dims = dimsText.split(',').map(Number);
  const buf = fs.readFileSync(input);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const threads = Number(threadsText || 2);
  const runs = Number(runsText || 5);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  const times = [];
  let result;
  for (let k = 0; k < runs; k++) {
    const t = process.hrtime.bigint();
    result = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const out = result[session.outputNames[0]];
  fs.writeFileSync(output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ outputDims: out.dims, medianMs: times[Math.floor(times.length / 2)], runs, threads }));
}

main().catch((error) => { console.error(error); process.exit(1); });

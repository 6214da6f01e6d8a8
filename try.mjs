import { ReportSet } from "./dist/reports/report-set.js";
import { writeMulticlassReports } from "./dist/reports/multiclass.js";
const n = 500, k = 10;
const probs = new Float32Array(n * k); const labels = new Int32Array(n);
let s = 1; const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
for (let i = 0; i < n; i++) { labels[i] = i % k; let t = 0; for (let j = 0; j < k; j++) { const v = r() + (j === labels[i] ? 2 * r() : 0); probs[i*k+j] = v; t += v; } for (let j = 0; j < k; j++) probs[i*k+j] /= t; }
const set = new ReportSet("/tmp/rep");
await writeMulticlassReports(set, { probabilities: probs, labels, classNames: ["airplane","automobile","bird","cat","deer","dog","frog","horse","ship","truck"], image: (i) => ({ side: 32, channels: 3, pixels: Uint8Array.from({ length: 32*32*3 }, (_, p) => (p * 7 + i) % 256) }) });
console.log(set.timings);

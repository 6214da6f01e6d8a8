#!/usr/bin/env node
// Provisions native TensorFlow for @tensorflow/tfjs-node from the PyPI wheel, then builds the
// package's N-API binding from source against it.
//
//   node native/tensorflow/provision.mjs [--force | --check] [--gpu] [--help]
//
// Why: tfjs-node's own install script downloads libtensorflow 2.9.1 from Google storage, which
// the project does not allow (`.npmrc` has ignore-scripts=true). TensorFlow's C API is also in
// the `tensorflow-cpu` wheel on PyPI (libtensorflow_cc.so.2 + libtensorflow_framework.so.2), so
// we take it from there with pip, pinned by version and SHA-256.
//
// Steps (each skipped when its result is already in place):
//   1. wheel     `pip download` the pinned wheel into <cache>/wheels, verify its SHA-256
//   2. extract   the two libraries + the 14 headers the binding includes, into
//                <cache>/tensorflow/<pin>-<sha12>/{lib,include} (temp dir + rename: atomic)
//   3. place     into node_modules/@tensorflow/tfjs-node/deps/{lib,include} (hard links, or
//                copies across filesystems), plus the links and marker the package expects
//   4. build     the binding with node-gyp against the local Node.js headers (--nodedir)
//   5. verify    load it in a child process, check it reports the pinned TensorFlow version and
//                runs a conv2d gradient; then write deps/PODTRAIN-PROVISION.json
// A run that finds the stamp matching the pin and all files in place exits in well under a second.
//
// Cache: $PODTRAIN_CACHE, else $XDG_CACHE_HOME/podtrain, else ~/.cache/podtrain.
// Python: $PODTRAIN_PYTHON, else python3 (needs pip for step 1 only when the wheel is not cached).
// Unzipping uses Python's standard-library `zipfile` module: python3 is required for pip (and by
// node-gyp) anyway, whereas `unzip` is not part of a minimal Debian + Python install.
//
// Plain Node.js ESM, standard library only: it runs right after `npm ci`.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyBindingPatch, BINDING_PATCH_VERSION } from './binding-patch.mjs';
import { CUDA_PROBE_FILES, CUDA_SET_ID, ensureCudaLibraries, placeCudaLibraries, probeCudaLibraries } from './cuda-wheels.mjs';

const STAMP_FORMAT = 1;
const STAMP_NAME = 'PODTRAIN-PROVISION.json';

// The 14 headers the binding's two sources include, found by preprocessing binding/*.cc
// (`g++ -MM`) against the wheel's whole tensorflow/include tree. Paths under tensorflow/include/.
const HEADERS = [
  'tensorflow/c/c_api.h',
  'tensorflow/c/c_api_macros.h',
  'tensorflow/c/eager/c_api.h',
  'tensorflow/c/tf_attrtype.h',
  'tensorflow/c/tf_buffer.h',
  'tensorflow/c/tf_datatype.h',
  'tensorflow/c/tf_status.h',
  'tensorflow/c/tf_tensor.h',
  'tensorflow/c/tf_tstring.h',
  'tensorflow/core/platform/ctstring.h',
  'tensorflow/core/platform/ctstring_internal.h',
  'tsl/platform/ctstring.h',
  'tsl/platform/ctstring_internal.h',
  'xla/tsl/c/tsl_status.h',
];

// What both builds share: the release, the wheel platform, and what goes into the binding.
const TENSORFLOW_BUILD = {
  version: '2.21.0',
  pip: { platform: 'manylinux_2_27_x86_64', pythonVersion: '3.11', implementation: 'cp' },
  minGlibc: '2.27',
  tfjsPackage: '@tensorflow/tfjs-node',
  libraries: ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'],
  headers: HEADERS,
};

const PINS = {
  cpu: {
    ...TENSORFLOW_BUILD,
    variant: 'cpu',
    package: 'tensorflow-cpu',
    wheel: 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
    // SHA-256 of the wheel: `sha256sum` of the downloaded file, `pip hash` of it, and pip's own
    // `--require-hashes` check against the file served from files.pythonhosted.org
    // (packages/59/03/9a99555a762de8cd4a405efbd39a732d926d8e58791441889560b7675b3e/) all agree.
    sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
    size: 273829956,
  },
  // --gpu: the CUDA build of the same release (`tensorflow==2.21.0`), placed into the same
  // @tensorflow/tfjs-node binding: the binding code is identical, only the library differs. Its two
  // libraries have no CUDA library among their DT_NEEDED entries: TensorFlow dlopens the CUDA
  // runtime, cuBLAS, cuDNN … at start-up, through its RUNPATH ($ORIGIN/../nvidia/<component>/lib,
  // where the pinned NVIDIA wheels of cuda-wheels.mjs are placed) or the loader path
  // (--system-cuda), and falls back to the CPU when they, the driver or a GPU are missing. That is
  // also what lets this build be provisioned and tested on machines without a GPU.
  gpu: {
    ...TENSORFLOW_BUILD,
    variant: 'gpu',
    package: 'tensorflow',
    wheel: 'tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
    // SHA-256 of the wheel as pip downloaded it from PyPI (`sha256sum`).
    sha256: '9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124',
    size: 572440367,
    cudaWheels: true,
  },
};

class ProvisionError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

const started = Date.now();
const secs = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (message) => console.log(`provision: ${message}`);

function usage() {
  return `Usage: node native/tensorflow/provision.mjs [--force | --check] [--gpu [--system-cuda]]

Provisions TensorFlow ${PINS.cpu.version} (from the PyPI wheel ${PINS.cpu.package}==${PINS.cpu.version}) for
@tensorflow/tfjs-node and builds its native binding. Runs as part of \`npm run setup\`.

  --force   redo placement, build and verification even if everything is in place
  --check   only run the self-check (step 5) on what is in place, with this Node.js; change nothing
  --gpu     the CUDA build (${PINS.gpu.package}==${PINS.gpu.version}) instead of ${PINS.cpu.package}, with the CUDA 12 / cuDNN 9
            libraries from the NVIDIA PyPI wheels tensorflow[and-cuda] uses (≈ 2.6 GiB download, 4.2 GiB
            unpacked; only the NVIDIA driver must come from the machine). Uses a GPU where one is visible,
            the CPU elsewhere.
  --system-cuda  with --gpu: skip the NVIDIA wheels and use the CUDA libraries on the loader path
            (a CUDA base image, LD_LIBRARY_PATH)
  --help    this text

Environment: PODTRAIN_CACHE (cache dir), PODTRAIN_PYTHON (python with pip, default python3),
npm_config_nodedir (Node.js headers, found automatically when installed beside node).`;
}

function parseArgs(argv) {
  const opts = { force: false, gpu: false, systemCuda: false, check: false };
  for (const arg of argv) {
    if (arg === '--force') opts.force = true;
    else if (arg === '--check') opts.check = true;
    else if (arg === '--gpu') opts.gpu = true;
    else if (arg === '--system-cuda') opts.systemCuda = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(usage());
      process.exit(0);
    } else throw new ProvisionError(`unknown argument ${arg}\n${usage()}`, 2);
  }
  if (opts.systemCuda && !opts.gpu) throw new ProvisionError(`--system-cuda only applies with --gpu\n${usage()}`, 2);
  if (opts.check && opts.force) throw new ProvisionError(`--check and --force exclude each other\n${usage()}`, 2);
  return opts;
}

// ---------------------------------------------------------------------------------------------
// helpers

function run(cmd, args, { cwd, env, quiet = false } = {}) {
  const result = spawnSync(cmd, args, {
    cwd,
    env: env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
  });
  return result;
}

function has(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function sha256File(file) {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function cacheRoot() {
  if (process.env.PODTRAIN_CACHE) return path.resolve(process.env.PODTRAIN_CACHE);
  if (process.env.XDG_CACHE_HOME) return path.join(path.resolve(process.env.XDG_CACHE_HOME), 'podtrain');
  return path.join(os.homedir(), '.cache', 'podtrain');
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function sizeMiB(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** Links `src` to `dst`, or copies it when a hard link is impossible (other filesystem, …). */
function linkOrCopy(src, dst) {
  try {
    fs.linkSync(src, dst);
    return 'hardlink';
  } catch (err) {
    if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EACCES'].includes(err.code)) throw err;
    fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE);
    return 'copy';
  }
}

// ---------------------------------------------------------------------------------------------
// locations

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function locatePackage(pin) {
  const req = createRequire(path.join(projectRoot, 'package.json'));
  let pkgJsonPath;
  try {
    pkgJsonPath = req.resolve(`${pin.tfjsPackage}/package.json`);
  } catch {
    throw new ProvisionError(`${pin.tfjsPackage} is not installed in ${projectRoot}: run \`npm ci\` first.`);
  }
  const dir = path.dirname(pkgJsonPath);
  const pkg = JSON.parse(fs.readFileSync(pkgJsonPath, 'utf8'));
  // Same N-API version choice node-pre-gyp makes at load time (highest one both support).
  const napiVersions = (pkg.binary?.napi_versions ?? []).map(Number);
  const nodeNapi = Number(process.versions.napi);
  const napi = Math.max(...napiVersions.filter((v) => v <= nodeNapi));
  if (!Number.isFinite(napi)) {
    throw new ProvisionError(`${pin.tfjsPackage} supports N-API ${napiVersions.join(', ')}; this Node.js has ${nodeNapi}.`);
  }
  const modulePath = path.resolve(dir, pkg.binary.module_path.replace('{napi_build_version}', String(napi)));
  const depsDir = path.join(dir, 'deps');
  return {
    dir,
    version: pkg.version,
    moduleName: pkg.binary.module_name,
    napi,
    modulePath,
    bindingPath: path.join(modulePath, `${pkg.binary.module_name}.node`),
    depsDir,
    stampPath: path.join(depsDir, STAMP_NAME),
  };
}

/** Node.js headers for node-gyp, so it never downloads them: a dir with include/node/common.gypi. */
function locateNodeDir() {
  const candidates = [];
  if (process.env.npm_config_nodedir) candidates.push(process.env.npm_config_nodedir);
  candidates.push(path.resolve(path.dirname(process.execPath), '..')); // /usr, /usr/local, nvm dirs
  if (process.config?.variables?.node_prefix) candidates.push(process.config.variables.node_prefix);
  // node-gyp's own header cache, if someone populated it earlier
  const devdir = process.env.npm_config_devdir ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'node-gyp');
  candidates.push(path.join(devdir, process.versions.node));
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'common.gypi')) && fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) {
      return path.resolve(dir);
    }
  }
  throw new ProvisionError(
    `Node.js ${process.version} headers not found (looked for include/node/node_api.h under ${[...new Set(candidates)].join(', ')}). ` +
      `Install Node.js from a distribution that ships its headers (official tarball, nodesource, node Docker image), ` +
      `or set npm_config_nodedir to a directory holding include/node/.`,
  );
}

function locateNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp); // set by `npm run`
  try {
    candidates.push(createRequire(path.join(projectRoot, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new ProvisionError(
    `node-gyp not found (it normally comes with npm, looked in ${candidates.join(', ')}). Run this through \`npm run setup\`, or install it: \`npm install -g node-gyp\`.`,
  );
}

function pythonCmd() {
  return process.env.PODTRAIN_PYTHON || 'python3';
}

// ---------------------------------------------------------------------------------------------
// steps

function preflight(pin, { needWheel, needBuild }) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new ProvisionError(
      `the pinned wheel is for Linux x86_64; this is ${process.platform}/${process.arch}. Use the pure-JS backend (--backend cpu).`,
    );
  }
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
  if (!glibc) throw new ProvisionError(`the pinned wheel needs glibc ≥ ${pin.minGlibc}; this system has none (musl/Alpine?). Use a glibc-based image such as node:24-bookworm.`);
  if (compareVersions(glibc, pin.minGlibc) < 0) {
    throw new ProvisionError(`the pinned wheel (${pin.pip.platform}) needs glibc ≥ ${pin.minGlibc}; this system has ${glibc}.`);
  }
  const py = pythonCmd();
  if (!has(py)) {
    throw new ProvisionError(`${py} not found: it is needed to download (pip) and unpack (zipfile) the TensorFlow wheel, and by node-gyp. Install it: \`apt-get install python3 python3-pip\`, or set PODTRAIN_PYTHON.`);
  }
  if (needWheel && !has(py, ['-m', 'pip', '--version'])) {
    throw new ProvisionError(`pip is not available for ${py} (\`${py} -m pip\` fails): install it (\`apt-get install python3-pip\`), or put ${pin.wheel} into ${path.join(cacheRoot(), 'wheels')}.`);
  }
  if (needBuild) {
    const cxx = process.env.CXX || 'c++';
    if (!has(cxx)) throw new ProvisionError(`no C++ compiler (\`${cxx}\`) found to build the tfjs-node binding: install one (\`apt-get install g++ make\`).`);
    if (!has('make')) throw new ProvisionError('`make` not found, needed to build the tfjs-node binding: install it (`apt-get install make`).');
  }
}

function ensureWheel(pin, wheelsDir) {
  const wheelPath = path.join(wheelsDir, pin.wheel);
  if (fs.existsSync(wheelPath)) {
    log(`wheel cached: ${wheelPath}; verifying SHA-256 …`);
    const got = sha256File(wheelPath);
    if (got === pin.sha256) return wheelPath;
    const aside = `${wheelPath}.sha256-mismatch-${Date.now()}`;
    fs.renameSync(wheelPath, aside);
    log(`cached wheel has SHA-256 ${got}, expected ${pin.sha256}; moved it to ${aside}, downloading again`);
  }
  fs.mkdirSync(wheelsDir, { recursive: true });
  const py = pythonCmd();
  // pip checks the hash itself (--require-hashes) and we check it again below.
  const reqFile = path.join(wheelsDir, `.requirements-${pin.package}-${pin.version}-${process.pid}.txt`);
  fs.writeFileSync(reqFile, `${pin.package}==${pin.version} --hash=sha256:${pin.sha256}\n`);
  log(`downloading ${pin.package}==${pin.version} (${sizeMiB(pin.size)}) with pip into ${wheelsDir} …`);
  const r = run(py, [
    '-m', 'pip', 'download',
    '--no-deps', '--only-binary=:all:',
    '--platform', pin.pip.platform,
    '--python-version', pin.pip.pythonVersion,
    '--implementation', pin.pip.implementation,
    '--require-hashes', '-r', reqFile,
    '--dest', wheelsDir,
    '--disable-pip-version-check', '--progress-bar', 'off',
  ]);
  fs.rmSync(reqFile, { force: true });
  if (r.error || r.status !== 0) {
    throw new ProvisionError(
      `\`pip download ${pin.package}==${pin.version}\` failed (exit ${r.status ?? r.error?.code}): see pip's message above. ` +
        `It needs access to PyPI (or a configured index/proxy). Alternatively put ${pin.wheel} (SHA-256 ${pin.sha256}) into ${wheelsDir}.`,
    );
  }
  if (!fs.existsSync(wheelPath)) throw new ProvisionError(`pip reported success but ${wheelPath} is missing.`);
  const got = sha256File(wheelPath);
  if (got !== pin.sha256) {
    throw new ProvisionError(`SHA-256 mismatch for ${wheelPath}: got ${got}, expected ${pin.sha256}. Delete the file and rerun; if it persists, your index serves a different file than PyPI.`);
  }
  return wheelPath;
}

const UNZIP_PY = `
import json, os, shutil, sys, zipfile
wheel, dest, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    missing = [m for m, _ in spec if m not in names]
    if missing:
        sys.exit("wheel lacks: " + ", ".join(missing))
    for member, out in spec:
        target = os.path.join(dest, out)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(member) as src, open(target, "wb") as dst:   # CRC is checked on read
            shutil.copyfileobj(src, dst, 1 << 20)
`;

function extractDirFor(pin) {
  return path.join(cacheRoot(), 'tensorflow', `${pin.package}-${pin.version}-${pin.pip.platform}-${pin.sha256.slice(0, 12)}`);
}

function isExtracted(pin, dir) {
  return (
    pin.libraries.every((l) => fs.existsSync(path.join(dir, 'lib', l))) &&
    pin.headers.every((h) => fs.existsSync(path.join(dir, 'include', h)))
  );
}

function ensureExtracted(pin, wheelPath, dir) {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const spec = [
    ...pin.libraries.map((l) => [`tensorflow/${l}`, `lib/${l}`]),
    ...pin.headers.map((h) => [`tensorflow/include/${h}`, `include/${h}`]),
  ];
  log(`extracting ${pin.libraries.join(', ')} and ${pin.headers.length} headers (python3 zipfile) …`);
  const r = run(pythonCmd(), ['-c', UNZIP_PY, wheelPath, tmp, JSON.stringify(spec)], { quiet: true });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new ProvisionError(`unpacking ${wheelPath} failed: ${(r.stderr || r.error?.message || '').trim()}. Check free disk space (≈ 850 MB needed) in ${path.dirname(dir)}.`);
  }
  fs.writeFileSync(path.join(tmp, 'SOURCE.json'), JSON.stringify({ wheel: pin.wheel, sha256: pin.sha256, extractedAt: new Date().toISOString() }, null, 2) + '\n');
  fs.rmSync(dir, { recursive: true, force: true }); // a partial dir from an older, non-atomic layout
  try {
    fs.renameSync(tmp, dir);
  } catch (err) {
    // Another run finished first: keep its copy.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!isExtracted(pin, dir)) throw err;
  }
}

function place(pin, pkg, extracted, cudaDir) {
  const staging = `${pkg.depsDir}.podtrain-tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const libDir = path.join(staging, 'lib');
  fs.mkdirSync(libDir, { recursive: true });
  const modes = new Set();
  for (const l of pin.libraries) modes.add(linkOrCopy(path.join(extracted, 'lib', l), path.join(libDir, l)));
  // What binding.gyp links (-ltensorflow -ltensorflow_framework) …
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(libDir, 'libtensorflow.so'));
  fs.symlinkSync('libtensorflow_framework.so.2', path.join(libDir, 'libtensorflow_framework.so'));
  // … and the file whose presence makes the package's scripts/install.js skip its download.
  fs.writeFileSync(
    path.join(libDir, 'libtensorflow.so.2.9.1'),
    `Placeholder written by podtrain's native/tensorflow/provision.mjs. The libraries here are TensorFlow ${pin.version}\n` +
      `from the PyPI wheel ${pin.wheel}; this file only exists so that the package's scripts/install.js\n` +
      `does not try to download libtensorflow 2.9.1.\n`,
  );
  for (const h of pin.headers) {
    const dst = path.join(staging, 'include', h);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(path.join(extracted, 'include', h), dst);
  }
  if (cudaDir) modes.add(placeCudaLibraries(cudaDir, staging, linkOrCopy));
  fs.rmSync(pkg.depsDir, { recursive: true, force: true });
  fs.renameSync(staging, pkg.depsDir);
  return [...modes].join('+');
}

function build(pkg) {
  const nodeDir = locateNodeDir();
  const nodeGyp = locateNodeGyp();
  try {
    applyBindingPatch(pkg.dir);
  } catch (err) {
    throw new ProvisionError(err.message);
  }
  log(`building ${pkg.moduleName}.node (N-API ${pkg.napi}) with node-gyp, Node.js headers from ${nodeDir}/include/node …`);
  fs.rmSync(pkg.bindingPath, { force: true });
  const env = { ...process.env, npm_config_nodedir: nodeDir };
  const r = run(
    process.execPath,
    [
      nodeGyp, 'rebuild',
      `--nodedir=${nodeDir}`,
      '--jobs=max',
      // the variables binding.gyp reads, as node-pre-gyp would pass them
      `--module_name=${pkg.moduleName}`,
      `--module_path=${pkg.modulePath}`,
      `--napi_build_version=${pkg.napi}`,
    ],
    { cwd: pkg.dir, env, quiet: true },
  );
  if (r.error || r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    throw new ProvisionError(`building the tfjs-node binding failed (node-gyp exit ${r.status ?? r.error?.code}):\n${out}\nCheck that a C++ compiler, make and python3 work; rerun with --force after fixing.`);
  }
  if (!fs.existsSync(pkg.bindingPath)) throw new ProvisionError(`node-gyp succeeded but ${pkg.bindingPath} is missing.`);
  return { nodeDir, nodeGyp };
}

const VERIFY_JS = `
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const tf = require(process.argv[1]);
const binding = tf.backend().binding;
const x = tf.randomNormal([1, 5, 5, 2]);
const w = tf.randomNormal([3, 3, 2, 4]);
const dw = tf.grad((f) => tf.conv2d(x, f, 1, 'same').sum())(w);
if (dw.shape.join() !== '3,3,2,4' || !Number.isFinite(dw.sum().dataSync()[0])) throw new Error('conv2d gradient check failed');
if (typeof binding.addFunctionDef !== 'function') throw new Error('the binding lacks addFunctionDef (podtrain patch not applied)');
console.log(JSON.stringify({ backend: tf.getBackend(), tfVersion: binding && binding.TF_Version, tfjsNode: tf.version['tfjs-node'] }));
`;

// Preloaded into the self-check (node --require) exactly as src/tf/backend.ts loads it before
// tfjs-node: without it the check fails on Node ≥ 23 although `train` would work.
const NODE_UTIL_COMPAT = path.join(projectRoot, 'native', 'tensorflow', 'node-util-compat.cjs');

function verify(pin, pkg) {
  log('verifying: loading the binding and running a conv2d gradient …');
  const r = run(process.execPath, ['--require', NODE_UTIL_COMPAT, '-e', VERIFY_JS, pkg.dir], { cwd: projectRoot, quiet: true });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let info;
  try {
    info = JSON.parse(line);
  } catch {}
  if (r.status !== 0 || !info) {
    throw new ProvisionError(`the built binding does not load: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-10).join('\n')}\nRerun with --force; if it persists, delete ${extractDirFor(pin)} and rerun.`);
  }
  if (info.backend !== 'tensorflow' || info.tfVersion !== pin.version) {
    throw new ProvisionError(`the binding loaded but reports backend ${info.backend}, TensorFlow ${info.tfVersion}; expected tensorflow ${pin.version}.`);
  }
  return info;
}

/** Now, or SOURCE_DATE_EPOCH where a reproducible build sets it (the stamp is part of the image). */
function provisionTime() {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return process.env.SOURCE_DATE_EPOCH && Number.isInteger(epoch) && epoch >= 0 ? new Date(epoch * 1000) : new Date();
}

/** The CUDA wheel set this provisioning places, if any. */
function cudaSetFor(pin, opts) {
  return pin.cudaWheels && !opts.systemCuda ? CUDA_SET_ID : undefined;
}

function stampIsCurrent(pin, pkg, opts) {
  const stamp = readJson(pkg.stampPath);
  if (!stamp || stamp.format !== STAMP_FORMAT) return undefined;
  if (stamp.variant !== pin.variant || stamp.tensorflowVersion !== pin.version || stamp.wheelSha256 !== pin.sha256) return undefined;
  if (stamp.tfjsNodeVersion !== pkg.version || stamp.bindingPath !== pkg.bindingPath) return undefined;
  if (stamp.bindingPatchVersion !== BINDING_PATCH_VERSION) return undefined;
  if ((stamp.cudaWheels ?? null) !== (cudaSetFor(pin, opts) ?? null)) return undefined;
  if (stamp.cudaWheels && !CUDA_PROBE_FILES.every((file) => fs.existsSync(path.join(pkg.depsDir, file)))) return undefined;
  if (!fs.existsSync(pkg.bindingPath)) return undefined;
  for (const [name, size] of Object.entries(stamp.librarySizes ?? {})) {
    let st;
    try {
      st = fs.statSync(path.join(pkg.depsDir, 'lib', name));
    } catch {
      return undefined;
    }
    if (st.size !== size) return undefined;
  }
  if (Object.keys(stamp.librarySizes ?? {}).length !== pin.libraries.length) return undefined;
  return stamp;
}

// ---------------------------------------------------------------------------------------------

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pin = opts.gpu ? PINS.gpu : PINS.cpu;
  const pkg = locatePackage(pin);

  if (opts.check) {
    if (!fs.existsSync(pkg.bindingPath)) throw new ProvisionError(`${path.relative(projectRoot, pkg.bindingPath)} is missing: run \`npm run setup\` first.`);
    const info = verify(pin, pkg);
    log(`OK: ${pin.tfjsPackage} ${info.tfjsNode} runs on TensorFlow ${info.tfVersion} (backend '${info.backend}') under Node.js ${process.version}; took ${secs()}.`);
    return;
  }

  if (!opts.force) {
    const stamp = stampIsCurrent(pin, pkg, opts);
    if (stamp) {
      log(`TensorFlow ${pin.version} (${pin.wheel}) already provisioned for ${pin.tfjsPackage} ${pkg.version}, binding built ${stamp.provisionedAt}; nothing to do (${secs()}). Use --force to redo.`);
      return;
    }
  }

  const extracted = extractDirFor(pin);
  const needExtract = !isExtracted(pin, extracted);
  const wheelPath = path.join(cacheRoot(), 'wheels', pin.wheel);
  preflight(pin, { needWheel: needExtract && !fs.existsSync(wheelPath), needBuild: true });
  locateNodeDir(); // fail before the long steps if headers are missing
  locateNodeGyp();

  log(`TensorFlow ${pin.version} for ${pin.tfjsPackage} ${pkg.version} (cache ${cacheRoot()})`);
  if (needExtract) {
    const wheel = ensureWheel(pin, path.join(cacheRoot(), 'wheels'));
    ensureExtracted(pin, wheel, extracted);
    log(`extracted to ${extracted} (${secs()})`);
  } else {
    log(`using extracted libraries in ${extracted}`);
  }

  const tools = { run, pythonCmd, sha256File, log, fail: (message) => { throw new ProvisionError(message); } };
  const cudaDir = cudaSetFor(pin, opts) ? ensureCudaLibraries(cacheRoot(), tools) : undefined;
  const mode = place(pin, pkg, extracted, cudaDir);
  log(`placed libraries (${mode}) and headers in ${pkg.depsDir} (${secs()})`);

  const { nodeDir } = build(pkg);
  log(`built ${path.relative(projectRoot, pkg.bindingPath)} (${secs()})`);

  const info = verify(pin, pkg);
  let cuda;
  if (cudaDir) {
    cuda = probeCudaLibraries(pkg.depsDir, tools);
    log(`CUDA runtime ${cuda.cudart}, cuDNN ${cuda.cudnn} load; ${cuda.devices} GPU(s) visible${cuda.deviceCountStatus === 0 ? '' : ` (cudaGetDeviceCount status ${cuda.deviceCountStatus}: no usable driver here, TensorFlow will use the CPU)`}`);
  }
  const librarySizes = Object.fromEntries(pin.libraries.map((l) => [l, fs.statSync(path.join(pkg.depsDir, 'lib', l)).size]));
  const stamp = {
    format: STAMP_FORMAT,
    variant: pin.variant,
    tensorflowVersion: pin.version,
    package: pin.package,
    wheel: pin.wheel,
    wheelSha256: pin.sha256,
    tfjsNodeVersion: pkg.version,
    bindingPath: pkg.bindingPath,
    napiBuildVersion: pkg.napi,
    bindingPatchVersion: BINDING_PATCH_VERSION,
    ...(cudaDir ? { cudaWheels: CUDA_SET_ID, cudaRuntime: cuda.cudart, cudnn: cuda.cudnn } : {}),
    nodeVersion: process.version,
    nodeHeaders: nodeDir,
    libraryPlacement: mode,
    librarySizes,
    provisionedAt: provisionTime().toISOString(),
  };
  fs.writeFileSync(pkg.stampPath, JSON.stringify(stamp, null, 2) + '\n');
  log(`OK: ${pin.tfjsPackage} ${info.tfjsNode} runs on TensorFlow ${info.tfVersion} (backend '${info.backend}'); took ${secs()}.`);
}

try {
  main();
} catch (err) {
  if (err instanceof ProvisionError) {
    console.error(`provision: error: ${err.message}`);
    process.exit(err.exitCode);
  }
  console.error('provision: unexpected error (please report):');
  console.error(err);
  process.exit(1);
}

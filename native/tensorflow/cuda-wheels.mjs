// The NVIDIA CUDA 12 / cuDNN 9 libraries for the CUDA build of TensorFlow, from the same PyPI
// wheels `pip install tensorflow[and-cuda]==2.21.0` installs, pinned by SHA-256.
//
// Why wheels: tfjs-node-gpu is stuck on CUDA 11.2 / cuDNN 8.1, and a CUDA base image ties the
// training image to one vendor image. TensorFlow's two libraries carry RUNPATH entries
// `$ORIGIN/../nvidia/<component>/lib` (so that a pip install finds the nvidia-* packages next to
// it); provisioning places the wheels' libraries under deps/nvidia/<component>/, beside deps/lib/,
// and TensorFlow's dlopen finds them there with no LD_LIBRARY_PATH. Only the NVIDIA driver
// (libcuda.so.1) has to come from the machine, as it always does.
//
// The set is the one pip resolved on 2026-11-26 for the and-cuda requirements of the
// tensorflow 2.21.0 wheel (METADATA `Requires-Dist: … extra == "and-cuda"`), with their
// SHA-256 as downloaded (`sha256sum`). Headers are not extracted; libraries, nvcc's bin/ and
// nvvm/ (libdevice, ptxas for XLA) are.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const CUDA_WHEELS = [
  { package: 'nvidia-cublas-cu12', version: '12.9.3.13', wheel: 'nvidia_cublas_cu12-12.9.3.13-py3-none-manylinux_2_27_x86_64.whl', sha256: 'd7d51055f161b317c7105ddaae90e71eda059026074ffef93cf7cde2886bfe72', size: 581217458 },
  { package: 'nvidia-cuda-cupti-cu12', version: '12.9.79', wheel: 'nvidia_cuda_cupti_cu12-12.9.79-py3-none-manylinux_2_25_x86_64.whl', sha256: '096bcf334f13e1984ba36685ad4c1d6347db214de03dbb6eebb237b41d9d934f', size: 10814997 },
  { package: 'nvidia-cuda-nvcc-cu12', version: '12.9.86', wheel: 'nvidia_cuda_nvcc_cu12-12.9.86-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl', sha256: '5d6a0d32fdc7ea39917c20065614ae93add6f577d840233237ff08e9a38f58f0', size: 40546229 },
  { package: 'nvidia-cuda-nvrtc-cu12', version: '12.9.86', wheel: 'nvidia_cuda_nvrtc_cu12-12.9.86-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl', sha256: '210cf05005a447e29214e9ce50851e83fc5f4358df8b453155d5e1918094dcb4', size: 89568129 },
  { package: 'nvidia-cuda-runtime-cu12', version: '12.9.79', wheel: 'nvidia_cuda_runtime_cu12-12.9.79-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl', sha256: '25bba2dfb01d48a9b59ca474a1ac43c6ebf7011f1b0b8cc44f54eb6ac48a96c3', size: 3493179 },
  { package: 'nvidia-cudnn-cu12', version: '9.28.0.42', wheel: 'nvidia_cudnn_cu12-9.28.0.42-py3-none-manylinux_2_27_x86_64.whl', sha256: '9ff58b7f36dacd0a93e89f8f2957b52466889217963701daa15e577317cfa375', size: 716538495 },
  { package: 'nvidia-cufft-cu12', version: '11.4.1.4', wheel: 'nvidia_cufft_cu12-11.4.1.4-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl', sha256: 'c67884f2a7d276b4b80eb56a79322a95df592ae5e765cf1243693365ccab4e28', size: 200877592 },
  { package: 'nvidia-curand-cu12', version: '10.3.10.19', wheel: 'nvidia_curand_cu12-10.3.10.19-py3-none-manylinux_2_27_x86_64.whl', sha256: '49b274db4780d421bd2ccd362e1415c13887c53c214f0d4b761752b8f9f6aa1e', size: 68295626 },
  { package: 'nvidia-cusolver-cu12', version: '11.7.5.82', wheel: 'nvidia_cusolver_cu12-11.7.5.82-py3-none-manylinux_2_27_x86_64.whl', sha256: '15da72d1340d29b5b3cf3fd100e3cd53421dde36002eda6ed93811af63c40d88', size: 338117415 },
  { package: 'nvidia-cusparse-cu12', version: '12.5.10.65', wheel: 'nvidia_cusparse_cu12-12.5.10.65-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl', sha256: '73060ce019ac064a057267c585bf1fd5a353734151f87472ff02b2c5c9984e78', size: 366465088 },
  { package: 'nvidia-nccl-cu12', version: '2.32.3', wheel: 'nvidia_nccl_cu12-2.32.3-py3-none-manylinux_2_27_x86_64.whl', sha256: 'bb94b2348e4861d5e8aa00b36c3d12d9bdf9c6369b82cbb723de0b582280a21c', size: 351526311 },
  { package: 'nvidia-nvjitlink-cu12', version: '12.9.86', wheel: 'nvidia_nvjitlink_cu12-12.9.86-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl', sha256: 'e3f1171dbdc83c5932a45f0f4c99180a70de9bd2718c1ab77d14104f6d7147f9', size: 39748338 },
];

/** What must exist after placement: the runtime, cuBLAS and cuDNN libraries TensorFlow opens first. */
export const CUDA_PROBE_FILES = ['nvidia/cuda_runtime/lib/libcudart.so.12', 'nvidia/cublas/lib/libcublas.so.12', 'nvidia/cudnn/lib/libcudnn.so.9'];

/** Identifies the wheel set: the extraction folder and the provisioning stamp carry it. */
export const CUDA_SET_ID = createHash('sha256').update(CUDA_WHEELS.map((wheel) => wheel.sha256).join('\n')).digest('hex').slice(0, 12);

/** The platform tags of the pinned wheel files (the last part of a wheel name, '.'-separated). */
function platformTags() {
  return [...new Set(CUDA_WHEELS.flatMap((wheel) => wheel.wheel.replace(/\.whl$/, '').split('-').at(-1).split('.')))].sort();
}

// Members kept from each wheel: nvidia/<component>/{lib,bin,nvvm}/…
// Static archives (libcudart_static.a …) are for linking programs, not for TensorFlow at run time.
const KEPT_MEMBER = /^nvidia\/[a-z_]+\/(lib|bin|nvvm)\/(?!.*\.a$)[^/].*[^/]$/;
// Part of the extraction folder's name: bumped when KEPT_MEMBER changes, so old extractions are not reused.
const EXTRACT_LAYOUT = 2;

const EXTRACT_PY = `
import json, os, re, shutil, stat, sys, zipfile
dest, pattern, wheels = sys.argv[1], re.compile(sys.argv[2]), json.loads(sys.argv[3])
count = 0
for wheel in wheels:
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if info.is_dir() or not pattern.match(info.filename):
                continue
            target = os.path.join(dest, info.filename)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target, "wb") as dst:   # CRC is checked on read
                shutil.copyfileobj(src, dst, 1 << 20)
            if (info.external_attr >> 16) & stat.S_IXUSR or "/bin/" in info.filename:
                os.chmod(target, 0o755)
            count += 1
print(count)
`;

/**
 * Downloads (pip, --require-hashes) and extracts the CUDA wheels into `<cache>/cuda/<set id>/`,
 * reusing what is already there. Returns that folder; it holds `nvidia/`.
 * `tools`: { run, pythonCmd, sha256File, log, fail(message) } from provision.mjs.
 */
export function ensureCudaLibraries(cacheRoot, tools) {
  const extracted = path.join(cacheRoot, 'cuda', `cuda-wheels-${CUDA_SET_ID}-layout${EXTRACT_LAYOUT}`);
  if (CUDA_PROBE_FILES.every((file) => fs.existsSync(path.join(extracted, file)))) {
    tools.log(`CUDA libraries already extracted in ${extracted}`);
    return extracted;
  }
  const wheelsDir = path.join(cacheRoot, 'wheels');
  fs.mkdirSync(wheelsDir, { recursive: true });
  const missing = CUDA_WHEELS.filter((wheel) => !fs.existsSync(path.join(wheelsDir, wheel.wheel)) || tools.sha256File(path.join(wheelsDir, wheel.wheel)) !== wheel.sha256);
  if (missing.length > 0) {
    const total = missing.reduce((sum, wheel) => sum + wheel.size, 0);
    const requirements = path.join(wheelsDir, `.requirements-cuda-${process.pid}.txt`);
    fs.writeFileSync(requirements, missing.map((wheel) => `${wheel.package}==${wheel.version} --hash=sha256:${wheel.sha256}`).join('\n') + '\n');
    tools.log(`downloading ${missing.length} NVIDIA CUDA/cuDNN wheels (${(total / 2 ** 30).toFixed(1)} GiB) with pip into ${wheelsDir} …`);
    const result = tools.run(tools.pythonCmd(), [
      '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:',
      // pip matches an explicit --platform exactly: pass every manylinux tag the pinned files carry.
      ...platformTags().flatMap((tag) => ['--platform', tag]),
      '--python-version', '3.11', '--implementation', 'cp',
      '--require-hashes', '-r', requirements, '--dest', wheelsDir,
      '--disable-pip-version-check', '--progress-bar', 'off',
    ]);
    fs.rmSync(requirements, { force: true });
    if (result.error || result.status !== 0) {
      tools.fail(`\`pip download\` of the NVIDIA CUDA wheels failed (exit ${result.status ?? result.error?.code}): see pip's message above. It needs access to PyPI (or a configured index/proxy); or put the wheels listed in native/tensorflow/cuda-wheels.mjs into ${wheelsDir}.`);
    }
    for (const wheel of missing) {
      const file = path.join(wheelsDir, wheel.wheel);
      if (!fs.existsSync(file)) tools.fail(`pip reported success but ${file} is missing.`);
      const got = tools.sha256File(file);
      if (got !== wheel.sha256) tools.fail(`SHA-256 mismatch for ${file}: got ${got}, expected ${wheel.sha256}. Delete the file and rerun.`);
    }
  }
  const tmp = `${extracted}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  tools.log(`extracting the CUDA libraries (≈ 4.2 GiB, python3 zipfile) …`);
  const result = tools.run(tools.pythonCmd(), ['-c', EXTRACT_PY, tmp, KEPT_MEMBER.source, JSON.stringify(CUDA_WHEELS.map((wheel) => path.join(wheelsDir, wheel.wheel)))], { quiet: true });
  if (result.error || result.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    tools.fail(`unpacking the CUDA wheels failed: ${(result.stderr || result.error?.message || '').trim()}. Check free disk space (≈ 4.5 GiB needed) in ${path.dirname(extracted)}.`);
  }
  for (const file of CUDA_PROBE_FILES) if (!fs.existsSync(path.join(tmp, file))) tools.fail(`the CUDA wheels lack ${file}`);
  fs.writeFileSync(path.join(tmp, 'SOURCE.json'), JSON.stringify({ wheels: CUDA_WHEELS.map(({ wheel, sha256 }) => ({ wheel, sha256 })), extractedAt: new Date().toISOString() }, null, 2) + '\n');
  fs.rmSync(extracted, { recursive: true, force: true });
  fs.renameSync(tmp, extracted);
  tools.log(`extracted ${result.stdout.trim()} files to ${extracted}`);
  return extracted;
}

/** Places `<extracted>/nvidia` at `<depsDir>/nvidia` file by file with `linkOrCopy`. */
export function placeCudaLibraries(extracted, depsDir, linkOrCopy) {
  const modes = new Set();
  const walk = (relative) => {
    for (const entry of fs.readdirSync(path.join(extracted, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) {
        fs.mkdirSync(path.join(depsDir, child), { recursive: true });
        walk(child);
      } else {
        modes.add(linkOrCopy(path.join(extracted, child), path.join(depsDir, child)));
      }
    }
  };
  fs.mkdirSync(path.join(depsDir, 'nvidia'), { recursive: true });
  walk('nvidia');
  return [...modes].join('+');
}

const PROBE_PY = `
import ctypes, json, os, sys
base = sys.argv[1]
runtime = ctypes.CDLL(os.path.join(base, "nvidia/cuda_runtime/lib/libcudart.so.12"))
version = ctypes.c_int()
runtime.cudaRuntimeGetVersion(ctypes.byref(version))
count = ctypes.c_int()
status = runtime.cudaGetDeviceCount(ctypes.byref(count))
cudnn = ctypes.CDLL(os.path.join(base, "nvidia/cudnn/lib/libcudnn.so.9"))
cudnn.cudnnGetVersion.restype = ctypes.c_size_t
print(json.dumps({"cudart": version.value, "cudnn": cudnn.cudnnGetVersion(), "deviceCountStatus": status, "devices": count.value if status == 0 else 0}))
`;

/**
 * Loads the placed CUDA runtime and cuDNN (python ctypes) and asks for their versions and the GPU
 * count: proof that the files load on this machine's glibc. Needs no GPU; without a driver the
 * count query reports status 35 (insufficient driver) and 0 devices.
 */
export function probeCudaLibraries(depsDir, tools) {
  const result = tools.run(tools.pythonCmd(), ['-c', PROBE_PY, depsDir], { quiet: true });
  const line = (result.stdout ?? '').trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) tools.fail(`the placed CUDA libraries do not load: ${(result.stderr || line).trim().split('\n').slice(-5).join('\n')}`);
  return JSON.parse(line);
}

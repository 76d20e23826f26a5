#!/usr/bin/env bash
# Puts ONNX Runtime's native library (libonnxruntime.so.1, 1.30.0, linux x64) into .tools/onnxruntime/1.30.0/.
# Microsoft.ML.OnnxRuntime is not obtainable from this workplace's NuGet copy, so the library comes out of the npm
# package onnxruntime-node, which ships the same official build: `npm pack` downloads the tarball without running
# any of its scripts, and only the one .so is extracted. Silent and quick when the library is already in place.
set -euo pipefail

version=1.30.0
# SHA-256 of package/bin/napi-v6/linux/x64/libonnxruntime.so.1 in onnxruntime-node@1.30.0; a republished or
# tampered package fails here instead of being loaded.
expected_sha256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
member=package/bin/napi-v6/linux/x64/libonnxruntime.so.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="$root/.tools/onnxruntime/$version"
target="$target_dir/libonnxruntime.so.1"

# The library is only ever moved into place after its checksum and load check passed, so presence means verified.
[ -f "$target" ] && exit 0

if [ "$(uname -m)" != x86_64 ]; then
  echo "qct: fetch-onnxruntime.sh knows the linux x64 library only; this machine is $(uname -m)" >&2
  exit 1
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "qct: installing Debian package npm (to fetch ONNX Runtime)" >&2
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm >&2
fi

echo "qct: fetching ONNX Runtime $version (npm pack onnxruntime-node@$version, about 110 MB)" >&2
work="$(mktemp -d)"
staged=""
trap 'rm -rf "$work"; [ -z "$staged" ] || rm -f "$staged"' EXIT

(cd "$work" && npm pack "onnxruntime-node@$version" --ignore-scripts --silent >/dev/null)
tar -xzf "$work/onnxruntime-node-$version.tgz" -C "$work" "$member"
extracted="$work/$member"

actual_sha256="$(sha256sum "$extracted" | cut -d' ' -f1)"
if [ "$actual_sha256" != "$expected_sha256" ]; then
  echo "qct: $member from onnxruntime-node@$version has SHA-256 $actual_sha256, expected $expected_sha256" >&2
  exit 1
fi

# ldd runs the dynamic loader on the library: it fails on a wrong architecture and names missing dependencies.
if ! loader_report="$(ldd "$extracted" 2>&1)" || grep -q 'not found' <<<"$loader_report"; then
  echo "qct: the dynamic loader cannot load libonnxruntime.so.1:" >&2
  printf '%s\n' "$loader_report" >&2
  exit 1
fi

mkdir -p "$target_dir"
# Same file system as the target, so the final mv is atomic and a concurrent caller never sees half a library.
staged="$(mktemp "$target_dir/.libonnxruntime.so.1.XXXXXX")"
cp "$extracted" "$staged"
chmod 0644 "$staged"
mv -f "$staged" "$target"
echo "qct: ONNX Runtime $version is in ${target#"$root"/}" >&2

#!/usr/bin/env bash
# Installs what QctPipeline needs on a fresh Debian 12 machine, once: Debian packages and the .NET restore.
# Safe to run every time; it does nothing when all is present.
set -euo pipefail

need_apt=()
[ -f /usr/lib/cli/gdcm-sharp-3.0/gdcm-sharp.dll ] || need_apt+=(libgdcm-cil)
if [ "${QCT_WITH_TEST_TOOLS:-0}" = 1 ]; then
  command -v dcmdump >/dev/null 2>&1 || need_apt+=(dcmtk)
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  [ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need_apt+=(orthanc orthanc-dicomweb)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "qct: installing Debian packages: ${need_apt[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "qct: the .NET 10 SDK (dotnet) is required and is not on PATH" >&2
  exit 1
fi
"$(dirname "${BASH_SOURCE[0]}")/fetch-onnxruntime.sh"

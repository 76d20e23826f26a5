#!/usr/bin/env bash
# Regenerates sample-dicom/ from the digital phantom (deterministic: the same files every run).
#   scripts/make-sample-dicom.sh [QCT_COMMAND...]   (default: ./qct)
# Small studies (256², 1.5 mm pixels, 2.5 mm slices, T10–L3, deflated) keep the folder under 40 MB.
# No degenerative change (--degeneration 0, where the age would draw some): the shipped L1 model, trained on the
# phantoms before issue 14, outlines degenerated bodies badly (sample patient B's drawn spondylosis had its L1 called a
# 49 % wedge and T12 measured, a false 5.7 % decline). Drop it once the model is retrained on the current phantoms.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$#" -gt 0 ]; then qct=("$@"); else qct=("$root/qct"); fi
out="$root/sample-dicom"
common=(--matrix 256 --fov 384 --slice-thickness 2.5 --slice-spacing 2.5 --from T10 --to L3 --noise 14 --degeneration 0 --deflate)

rm -rf "$out"
mkdir -p "$out"
# Patient A: 7 % L1 decline over six months (must be flagged).
"${qct[@]}" phantom --out "$out/patient-a" --seed 101 --patient SAMPLE-A --patient-name "SAMPLE^A" --sex F --birth-date 1961-05-02 \
  --timepoints "2025-01-10:118,2025-07-11:109.74" "${common[@]}"
# Patient B: 2 % change (must not be flagged).
"${qct[@]}" phantom --out "$out/patient-b" --seed 202 --patient SAMPLE-B --patient-name "SAMPLE^B" --sex M --birth-date 1955-11-20 \
  --timepoints "2025-02-03:131,2025-08-04:128.38" "${common[@]}"
# Patient C: Mindways-style K2HPO4 calibration phantom under the patient.
"${qct[@]}" phantom --out "$out/patient-c-mindways" --seed 303 --patient SAMPLE-C --patient-name "SAMPLE^C" --sex F --birth-date 1968-02-14 \
  --study-date 2025-03-05 --l1-bmd 96 --calibration-phantom mindways "${common[@]}"
# Patient D: portal-venous IV contrast.
"${qct[@]}" phantom --out "$out/patient-d-venous" --seed 404 --patient SAMPLE-D --patient-name "SAMPLE^D" --sex M --birth-date 1972-09-30 \
  --study-date 2025-04-22 --l1-bmd 142 --contrast venous "${common[@]}"
du -sh "$out"

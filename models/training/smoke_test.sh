#!/usr/bin/env bash
# Smoke test of the training side, end to end, in a temporary folder. NOT part of CI (.ci/run runs the .NET tests
# only): it needs dotnet, Debian's python3-torch and ~10-15 minutes of the 2 cores.
#
#   models/training/smoke_test.sh                      # builds the generator from this worktree
#   QCT_GENERATOR=/path/qct.dll models/training/smoke_test.sh
#   SMOKE_DIR=/tmp/my-smoke SMOKE_MINUTES=2 models/training/smoke_test.sh
#
# What it does, as the lead's fine-tune will, but tiny:
#  1. builds the phantom generator (dotnet build ... -o $SMOKE_DIR/gen) unless QCT_GENERATOR is given;
#  2. generates 6 cases (seeds 990000-990005): 4 training + 2 held-out, at 4 mm (localizer) and 1.5 mm around L1
#     (refiner), with generate_data.py, then re-runs one set to show it is idempotent;
#  3. measures the sampling speed (bench_sampling.py);
#  4. copies the committed checkpoints (models/checkpoints/*-latest.pt) into $SMOKE_DIR/ckpt and fine-tunes each stage
#     on the new data for SMOKE_MINUTES minutes (--restart-schedule), validating once a minute; then resumes the
#     localizer with the same command line to show the schedule is not restarted twice;
#  5. runs --validate-only for both stages (the new rib metrics for the localizer);
#  6. exports to $SMOKE_DIR/export: first with --trust-rib-channel, which must be refused (2 held-out cases, not 50,
#     and an untrained channel), then with --rib-check; the ONNX Runtime check runs when onnxruntime-node is in
#     $QCT_ORT_NODE_MODULES (default /tmp/ml-ort/node_modules, see models/README.md), else PyTorch only;
#  7. checks that models/checkpoints and the shipped .onnx/manifest were not touched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${SMOKE_DIR:-$(mktemp -d /tmp/qct-smoke.XXXXXX)}"
minutes="${SMOKE_MINUTES:-2}"
py=/usr/bin/python3
nice_run() { OMP_WAIT_POLICY=PASSIVE nice -n 10 "$@"; }
step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
fingerprint() { (cd "$repo/models" && sha256sum checkpoints/* qct-l1-*.onnx qct-l1-model.json); }

mkdir -p "$work"
echo "smoke test in $work"
before="$(fingerprint)"

step "1. generator"
gen="${QCT_GENERATOR:-}"
if [ -z "$gen" ]; then
  nice_run dotnet build "$repo/src/QctPipeline.Cli/QctPipeline.Cli.csproj" -c Release -o "$work/gen" -nologo -v quiet \
    | tail -n 3
  gen="$work/gen/qct.dll"
fi
echo "generator $gen"

step "2. data: 6 cases (4 training + 2 held-out) per stage"
data="$work/data"
gd() { nice_run "$py" "$here/generate_data.py" --root "$data" --generator "$gen" --nice 10 "$@" | cut -c1-300; }
gd --set loc-train --spacing 4 --seeds 990000:990004
gd --set loc-val --spacing 4 --seeds 990004:990006
gd --set ref-train --spacing 1.5 --seeds 990000:990004 --crop-l1 --chunk 2
gd --set ref-val --spacing 1.5 --seeds 990004:990006 --crop-l1 --chunk 2
echo "again (idempotent: nothing to generate):"
gd --set loc-val --spacing 4 --seeds 990004:990006
ref_val="$data/ref-val"
if [ "$("$py" -c "import sys; sys.path.insert(0, '$here'); import common; print(len(common.list_cases('$ref_val')))")" = 0 ]; then
  echo "no held-out refiner case with L1 among seeds 990004-990005: validating the refiner on its training cases"
  ref_val="$data/ref-train"
fi

step "3. sampling speed (crop + augmentation, no network)"
nice_run "$py" "$here/bench_sampling.py" --localizer-data "$data/loc-train" --refiner-data "$data/ref-train" \
  --cases 4 --samples 100

step "4. fine-tune from the committed checkpoints, $minutes min per stage"
ckpt="$work/ckpt"
mkdir -p "$ckpt"
cp "$repo/models/checkpoints/localizer-latest.pt" "$repo/models/checkpoints/refiner-latest.pt" "$ckpt/"
common_args=(--checkpoints "$ckpt" --val-every-min 1 --save-every-min 1 --log-every 5
             --restart-schedule --lr 1e-3 --total-steps 3000)
nice_run "$py" "$here/train.py" --stage localizer --data "$data/loc-train" --val-data "$data/loc-val" "${common_args[@]}" \
  --max-minutes "$minutes" 2>&1 | tee "$work/localizer.log" | cut -c1-700
echo "resume with the same command line (must not restart the schedule again):"
nice_run "$py" "$here/train.py" --stage localizer --data "$data/loc-train" --val-data "$data/loc-val" "${common_args[@]}" \
  --max-minutes 0.2 2>&1 | tee -a "$work/localizer.log" | grep -E "resumed|schedule|phase|saved" || true
nice_run "$py" "$here/train.py" --stage refiner --data "$data/ref-train" --val-data "$ref_val" "${common_args[@]}" \
  --max-minutes "$minutes" 2>&1 | tee "$work/refiner.log" | cut -c1-700

step "5. validation of the fine-tuned checkpoints"
for stage in localizer refiner; do
  val="$data/loc-val"; [ "$stage" = refiner ] && val="$ref_val"
  nice_run "$py" "$here/train.py" --stage "$stage" --checkpoints "$ckpt" --data "$data/none" --val-data "$val" \
    --validate-only 2>&1 | grep -E "^validation|^rib case" | cut -c1-1200
done

step "6. export to $work/export"
export_dir="$work/export"
mkdir -p "$export_dir"
set +e
nice_run "$py" "$here/export_onnx.py" --checkpoints "$ckpt" --out "$export_dir" --trust-rib-channel \
  > "$work/export-trust.log" 2>&1
trust_status=$?
set -e
grep -E "rib check|refusing" "$work/export-trust.log" | cut -c1-600 || true
if [ "$trust_status" -eq 0 ]; then
  echo "FAIL: --trust-rib-channel was accepted on a 2-case held-out set"
  exit 1
fi
echo "--trust-rib-channel refused as it must be (exit $trust_status)"
nice_run "$py" "$here/export_onnx.py" --checkpoints "$ckpt" --out "$export_dir" --rib-check 2>&1 | cut -c1-400
"$py" - "$export_dir/qct-l1-model.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
loc = m["stages"]["localizer"]
print("manifest: ribChannelTrained", loc["ribChannelTrained"], "| rib check passed", loc["ribChannelCheck"]["passed"])
print("rib metrics", json.dumps(loc["ribChannelCheck"]["metrics"]))
for stage, spec in m["stages"].items():
    for phase in spec["trainingDataHistory"]:
        print(f"{stage} data phase from step {phase['fromStep']}: {phase['data']} generator "
              f"{ {k.split('/')[-1]: (v or 'unknown')[:12] for k, v in phase['generatorSha256'].items()} } "
              f"held-out {phase['valData'].split('/')[-1]} {(phase['valGeneratorSha256'] or 'unknown')[:12]} "
              f"schedule restarted at {phase.get('scheduleStart')}")
    for check in spec["exportChecks"]:
        print(stage, "export check", json.dumps(check))
EOF

step "7. the committed model files are untouched"
if [ "$before" != "$(fingerprint)" ]; then
  echo "FAIL: models/checkpoints or the shipped model changed"
  exit 1
fi
echo "models/checkpoints, qct-l1-*.onnx and qct-l1-model.json unchanged"
echo "SMOKE TEST PASSED ($work)"

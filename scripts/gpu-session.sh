#!/usr/bin/env bash
# gpu-session.sh — one command for a short GPU session (an H100/H200 lent for minutes, no apt, no
# network): configure for the local GPU's arch only, build, ctest (GPU tests run), `sdmark run` of
# sd15, sdxl, vae in fp16, the torch peer (scripts/torch_peer.py) in fp16, then bf16 and fp32 the
# same way while time remains, and a summary. Everything lands under OUTDIR as it goes (results
# rewritten after every row; every step's log), so a timeout loses at most the row in flight.
#
# Usage: scripts/gpu-session.sh [--dry-run] [--budget S] [--build DIR] OUTDIR
#   --dry-run   every step up to the first GPU call (tools, cuDNN, gpu-deps, the plan), then stop;
#               automatic when nvidia-smi is absent or fails
#   --budget S  wall-clock budget of the whole session in seconds (default 480 = 8 minutes)
#   --build DIR build directory (default: build-gpu in the repository)
#   --cmake-arg A  one more argument for the configure step (repeatable)
# Needs: the CUDA toolkit (nvcc), CMake, a C compiler; gpu-deps/ from scripts/gpu-deps.sh where the
# machine lacks cJSON/CMocka/pkg-config (sourced automatically when present); PyTorch for the peer.
# The plan and the cost model behind it: scripts/gpu_session.py, docs/gpu-session.md.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dry=0 budget=480 build="$root/build-gpu" out="" extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --dry-run) dry=1 ;;
    --budget) budget="$2"; shift ;;
    --build) build="$2"; shift ;;
    --cmake-arg) extra+=("$2"); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "gpu-session: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) out="$1" ;;
    esac
    shift
done
[ -n "$out" ] || { echo "gpu-session: usage: scripts/gpu-session.sh [--dry-run] [--budget S] OUTDIR" >&2; exit 2; }
mkdir -p "$out/results" || exit 1
out="$(cd "$out" && pwd)"
start=$(date +%s)
deadline=$((start + ${budget%.*}))
exec > >(tee -a "$out/session.log") 2>&1

# Run flags: sized so the fp16 phases fit after the build (scripts/gpu_session.py plan checks it).
suites="sd15,sdxl,vae" first="fp16" rest="bf16 fp32,tf32"  # rest: dtype groups, in order
warmup_ms=20 min_time=0.1 row_timeout=0.3 min_samples=10
flags=(--warmup-ms $warmup_ms --min-time $min_time --timeout $row_timeout --min-samples $min_samples)
reserve_build=200 reserve_ctest=70 peer_start=15 summary_s=10

# Result rows written so far (header lines excluded): the measured seconds per row of each phase.
rows_now() { cat "$out"/results/*.csv 2> /dev/null | grep -vc '^schema_version'; }
say() { printf 'gpu-session [%4ds] %s\n' $(($(date +%s) - start)) "$*"; }
left() { echo $((deadline - $(date +%s) - summary_s)); }
# step NAME LIMIT CMD...: run with a time limit (SIGINT first: sdmark keeps finished rows)
step() {
    local name="$1" limit="$2"; shift 2
    local l; l=$(left); [ "$limit" -gt "$l" ] && limit=$l
    if [ "$limit" -le 5 ]; then say "$name: skipped, no time left"; return 124; fi
    say "$name: start (limit ${limit}s): $*"
    local t0 rc r0 dt rows; t0=$(date +%s) r0=$(rows_now)
    timeout -s INT -k 10 "$limit" "$@" > "$out/$name.log" 2>&1; rc=$?
    dt=$(($(date +%s) - t0)) rows=$(($(rows_now) - r0))
    say "$name: rc=$rc in ${dt}s (log: $out/$name.log)$([ $rows -gt 0 ] &&
        awk -v n=$rows -v t=$dt 'BEGIN { printf "; %d rows, %.2f s/row measured", n, t / n }')"
    tail -n 5 "$out/$name.log" | sed 's/^/    /'
    return $rc
}

# gpu-deps/ (carried from a machine with apt) and cuDNN: the toolkit's, PyTorch's wheel, or carried.
setup_env() {
    if [ -f "$root/gpu-deps/env.sh" ]; then
        ROOT="$root" . "$root/gpu-deps/env.sh"
        say "gpu-deps: sourced ($root/gpu-deps/env.sh)"
    fi
    cmake_flags=(${SDMARK_CMAKE_FLAGS:-})
    find_cudnn
}

# cuDNN, most complete first: the toolkit's; $CUDNN_ROOT with its engine libraries; PyTorch's wheel
# (nvidia.cudnn); a headers-only $CUDNN_ROOT (gpu-deps.sh --cudnn: builds, engines needed at run time).
find_cudnn() {
    local tk py engines=libcudnn_engines_precompiled.so.9
    tk="$(dirname "$(dirname "$(command -v nvcc 2> /dev/null || echo /usr/local/cuda/bin/nvcc)")")"
    py="$(python3 -c 'import nvidia.cudnn as c; print(list(c.__path__)[0])' 2> /dev/null || true)"
    if [ -f "$tk/include/cudnn.h" ]; then
        say "cuDNN: in the CUDA toolkit ($tk)"
    elif [ -n "${CUDNN_ROOT:-}" ] && [ -e "$CUDNN_ROOT/lib/$engines" ]; then
        say "cuDNN: CUDNN_ROOT=$CUDNN_ROOT"
    elif [ -n "$py" ] && [ -f "$py/include/cudnn.h" ]; then
        cudnn_root_from "$py" "PyTorch's wheel"
    elif [ -n "${CUDNN_ROOT:-}" ] && [ -f "$CUDNN_ROOT/include/cudnn.h" ]; then
        say "cuDNN: CUDNN_ROOT=$CUDNN_ROOT, WITHOUT its engine libraries: cudnn rows will fail at run time"
    else
        say "cuDNN: not found (toolkit, CUDNN_ROOT, python nvidia.cudnn): conv2d impl 'cudnn' disabled"
    fi
}

# A CUDNN_ROOT for CMake: the wheels ship libcudnn.so.9 only, CMake looks for libcudnn.so.
cudnn_root_from() {
    local src="$1" what="$2" dst="$build/cudnn-root"
    mkdir -p "$dst/lib"
    ln -sfn "$src/include" "$dst/include"
    ln -sf "$(ls "$src"/lib/libcudnn.so* | head -n1)" "$dst/lib/libcudnn.so"
    export CUDNN_ROOT="$dst" LD_LIBRARY_PATH="$src/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "cuDNN: $what ($src)"
    [ -e "$src/lib/libcudnn_engines_precompiled.so.9" ] ||
        say "cuDNN: WARNING only the dispatcher library is there; cudnn rows need the engine libraries at run time"
}

check_tools() {
    local t miss=0
    for t in cmake cc python3 timeout; do
        command -v "$t" > /dev/null || { say "missing tool: $t"; miss=1; }
    done
    command -v nvcc > /dev/null && say "nvcc: $(nvcc --version | tail -n1)" || say "nvcc: not found (the build needs the CUDA toolkit)"
    command -v pkg-config > /dev/null && say "pkg-config: $(command -v pkg-config)" || say "pkg-config: not found"
    torch_version="$(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)' 2> /dev/null)"
    [ -n "$torch_version" ] && say "torch: $torch_version" ||
        say "torch: not installed (the torch peer phases will be skipped)"
    return $miss
}

make_plan() {
    python3 "$root/scripts/gpu_session.py" plan suites="$suites" first="$first" rest="$rest" budget="$budget" \
        fixed=$((reserve_build + reserve_ctest)) peer_start=$peer_start warmup_ms=$warmup_ms min_time=$min_time \
        timeout=$row_timeout min_samples=$min_samples | tee "$out/plan.txt"
}

say "OUTDIR $out, budget ${budget}s, build dir $build"
check_tools || { say "stop: tools missing"; exit 1; }
setup_env
make_plan; plan_rc=${PIPESTATUS[0]}
python3 "$root/scripts/torch_peer.py" --suite "$suites" --list > "$out/torch-rows.txt" || exit 1
[ $plan_rc -eq 0 ] || { say "stop: the plan does not fit the budget"; exit 1; }

# First GPU call: nvidia-smi (also picks the arch to build for).
gpu="$( [ $dry = 0 ] && nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader 2>/dev/null | head -n1)"
if [ -z "$gpu" ]; then
    why=$([ $dry = 1 ] && echo "--dry-run" || echo "no GPU (nvidia-smi absent or failed)")
    say "dry run ($why): stopping before the first GPU call. Would run:"
    echo "    cmake -S $root -B $build -DCMAKE_BUILD_TYPE=Release -DSDMARK_CUDA_ARCHS=<compute_cap> ${cmake_flags[*]:-}"
    echo "    cmake --build $build -j$(nproc) && ctest -j8 --timeout 60"
    echo "    sdmark run --backend cuda --suite $suites --dtype $first ${flags[*]} --out $out/results"
    echo "    torch_peer.py --device cuda --suite $suites --dtype $first ${flags[*]} --out $out/results"
    echo "    ... then for each of: $rest: both again while time remains; gpu_session.py summary $out/results"
    exit 0
fi
say "GPU: $gpu"
arch="$(echo "$gpu" | awk -F', ' '{gsub(/\./, "", $2); print $2}')"
[[ "$arch" =~ ^[0-9]+$ ]] || arch=native

step configure 30 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSDMARK_SANITIZE=OFF \
    -DSDMARK_CUDA_ARCHS="$arch" ${cmake_flags[@]+"${cmake_flags[@]}"} ${extra[@]+"${extra[@]}"} || { say "stop: configure failed"; exit 1; }
step build $((reserve_build - 30)) cmake --build "$build" -j"$(nproc)" || { say "stop: build failed"; exit 1; }
step ctest $reserve_ctest bash -c "cd \"$build\" && ctest -j8 --timeout 60 --output-on-failure"
sdm="$build/sdmark"
step sdmark-$first 400 "$sdm" run --backend cuda --suite "$suites" --dtype "$first" "${flags[@]}" \
    --out "$out/results"
peer=(python3 "$root/scripts/torch_peer.py" --device cuda --suite "$suites" "${flags[@]}" --out "$out/results")
[ -n "$torch_version" ] && step torch-$first 400 "${peer[@]}" --dtype "$first"
for dts in $rest; do  # one dtype group after the other, each on both sides, while time remains
    step "sdmark-${dts//,/-}" 400 "$sdm" run --backend cuda --suite "$suites" --dtype "$dts" "${flags[@]}" \
        --out "$out/results"
    [ -n "$torch_version" ] && step "torch-${dts//,/-}" 400 "${peer[@]}" --dtype "$dts"
done
summary_s=0
say "summary:"
python3 "$root/scripts/gpu_session.py" summary "$out/results" | tee "$out/summary.txt"
say "done; results in $out/results"

#!/usr/bin/env bash
# sass-stats.sh — a static meter of sdmark's own CUDA kernels, read from their machine code (SASS).
#
# Builds each kernels/cuda/*.cu file to a cubin per architecture (nvcc -cubin -Xptxas -v), then
# prints one row per kernel:
#   regs, spill (bytes stored+loaded), smem (static + the dynamic bytes the host asks for, where
#   known), threads, occ (theoretical occupancy: resident warps / max warps per SM),
#   and for the MAIN LOOP - the innermost loop (backward branch) of the SASS that contains HMMA:
#   hmma (HMMA in one iteration), lds (shared-load instructions: LDS*, LDSM*), lds/hmma,
#   B/hmma (shared bytes a warp reads per HMMA), lds16 (16-bit LDS.U16/LDS.S16), ins/hmma (all
#   instructions of the loop body except NOP, per HMMA).
# The counts are static (one pass over the loop's code, both sides of any branch inside it; the
# never-executed "@!PT" padding instructions ptxas emits are left out; a loop nested inside the
# main loop is counted once, whatever its trip count), not a profile: they say what each iteration issues, not how fast it runs.
#
# Usage: scripts/sass-stats.sh [-a "80 90"] [-f FILTER] [FILE.cu ...]
#   -a  architectures (default "80 90")     -f  only kernels whose name contains FILTER
#   FILE.cu default: kernels/cuda/{gemm,conv2d,attention}.cu
# Extra nvcc flags: SASS_STATS_NVCC_FLAGS (e.g. "-DSDK_GEMM_DEFAULT=1").
# Needs nvcc, and cuobjdump + nvdisasm: from the toolkit, or the pip wheels nvidia-cuda-cuobjdump
# and nvidia-cuda-nvdisasm (found through python3 when not on PATH).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
archs="80 90"
filter=""
while getopts "a:f:h" o; do
    case "$o" in
    a) archs="$OPTARG" ;;
    f) filter="$OPTARG" ;;
    *) sed -n '2,20p' "$0"; exit 0 ;;
    esac
done
shift $((OPTIND - 1))
files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$root/kernels/cuda/gemm.cu" "$root/kernels/cuda/conv2d.cu" "$root/kernels/cuda/attention.cu")

find_tool() { # tool name -> path (PATH, the toolkit, or the pip wheel), or fail
    local t="$1" p
    p="$(command -v "$t" 2>/dev/null || true)"
    [ -n "$p" ] || { [ -x /usr/local/cuda/bin/$t ] && p=/usr/local/cuda/bin/$t; } || true
    if [ -z "$p" ] && command -v python3 >/dev/null; then
        p="$(python3 - "$t" <<'EOF' 2>/dev/null || true
import importlib.util, os, sys
for pkg in ("nvidia.cu13", "nvidia.cuda_nvdisasm", "nvidia.cuda_cuobjdump", "nvidia"):
    try:
        spec = importlib.util.find_spec(pkg)
    except Exception:
        continue
    for d in (spec.submodule_search_locations or []) if spec else []:
        for sub in ("bin", "cu13/bin"):
            f = os.path.join(d, sub, sys.argv[1])
            if os.access(f, os.X_OK):
                print(f); sys.exit(0)
EOF
)"
    fi
    [ -n "$p" ] || { echo "sass-stats: $t not found (pip install nvidia-cuda-$t)" >&2; exit 1; }
    echo "$p"
}
NVCC="$(find_tool nvcc)"
NVDISASM="$(find_tool nvdisasm)"
CUOBJDUMP="$(find_tool cuobjdump)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

printf '%-58s %4s %4s %5s %6s %4s %4s | %4s %4s %8s %6s %5s %8s\n' \
    kernel sm regs spill smem thr occ hmma lds lds/hmma B/hmma lds16 ins/hmma
for f in "${files[@]}"; do
    base="$(basename "$f" .cu)"
    for a in $archs; do
        cub="$tmp/$base.$a.cubin"
        # shellcheck disable=SC2086
        if ! "$NVCC" -arch=sm_$a -cubin -o "$cub" -std=c++17 --expt-relaxed-constexpr -Xptxas -v \
            -I"$root/include" -I"$root/src/backends/cuda" -I"$root/kernels/cuda" \
            ${SASS_STATS_NVCC_FLAGS:-} "$f" >"$tmp/ptxas.$base.$a.txt" 2>&1; then
            cat "$tmp/ptxas.$base.$a.txt" >&2
            echo "sass-stats: nvcc failed for $f sm_$a" >&2
            exit 1
        fi
        "$NVDISASM" -c "$cub" >"$tmp/$base.$a.sass"
        "$CUOBJDUMP" -elf "$cub" >"$tmp/$base.$a.elf"
        python3 - "$a" "$tmp/ptxas.$base.$a.txt" "$tmp/$base.$a.sass" "$tmp/$base.$a.elf" "$filter" <<'EOF'
import re, subprocess, sys
arch, ptxas_f, sass_f, elf_f, filt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]

def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout
    return dict(zip(names, out.split("\n")))

# ptxas -v: registers, spills, static shared memory per function
res, cur = {}, None
for line in open(ptxas_f):
    m = re.search(r"Compiling entry function '([^']+)'", line) or re.search(r"Function properties for (\S+)", line)
    if m:
        cur = m.group(1); res.setdefault(cur, {"regs": 0, "spill": 0, "smem": 0})
        continue
    if cur is None:
        continue
    m = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", line)
    if m:
        res[cur]["spill"] = int(m.group(1)) + int(m.group(2))
    m = re.search(r"Used (\d+) registers", line)
    if m:
        res[cur]["regs"] = int(m.group(1))
    m = re.search(r"(\d+) bytes smem", line)
    if m:
        res[cur]["smem"] = int(m.group(1))

# cuobjdump -elf: __launch_bounds__ (EIATTR_MAX_THREADS) per function
threads, fn = {}, None
for line in open(elf_f):
    m = re.match(r"\s*\.nv\.info\.(\S+)", line)
    if m:
        fn = m.group(1)
    if fn and "EIATTR_MAX_THREADS" in line:
        threads[fn] = "next"
    elif fn and threads.get(fn) == "next" and "Value:" in line:
        v = [int(x, 16) for x in line.split("Value:")[1].split()]
        threads[fn] = v[0] * v[1] * v[2]

# nvdisasm -c: instructions and labels per function
funcs, order = {}, []
for line in open(sass_f):
    m = re.match(r"\.text\.(\S+):", line)
    if m:
        cur = m.group(1); funcs[cur] = []; order.append(cur); continue
    if not order:
        continue
    m = re.match(r"(\.L_x_\d+):", line)
    if m:
        funcs[cur].append(("label", m.group(1))); continue
    m = re.match(r"\s*/\*([0-9a-f]+)\*/\s+(.*?);", line)
    if m and not m.group(2).strip().startswith("@!PT"):   # never executed (scheduler padding)
        funcs[cur].append(("ins", m.group(2).strip()))

def opcode(ins):
    t = ins.split()
    if t and t[0].startswith("@"):
        t = t[1:]
    return t[0] if t else ""

def dyn_smem(name):
    # dynamic shared memory the host launches with (kernels/cuda/*.cu configs), where it is fixed
    m = re.search(r"flash_tc_kernel<[^,]+, (\d+)>", name)
    if m:
        return 3 * 64 * (int(m.group(1)) + 8) * 2
    m = re.search(r"flash2_kernel<[^,]+, (\d+)>", name)
    if m:
        dp = int(m.group(1)); ld = dp if (dp // 8) % 2 else dp + 8
        return 2 * 2 * 64 * ld * 2                            # sd_fa_smem_bytes (flash_layout.h)
    if "flashw_kernel" in name:
        return 3 * 32 * 520 * 2 + 8 * 32 * 40 * 4 + 32 * 40 * 2 + 2 * 32 * 4  # sd_fw_smem_bytes
    m = re.search(r"flash_f32_kernel", name)
    if m:
        return -1                                            # depends on head_dim
    return 0

def occupancy(regs, smem, thr):
    if thr <= 0:
        return 0.0
    smem_sm = {80: 164, 86: 100, 89: 100, 90: 228}.get(arch, 100) * 1024
    max_thr = {86: 1536, 89: 1536}.get(arch, 2048)
    w = (thr + 31) // 32
    rpw = ((max(regs, 1) * 32 + 255) // 256) * 256
    b_regs = (65536 // rpw) // w
    b_smem = smem_sm // (smem + 1024) if smem > 0 else 32
    b_thr = max_thr // thr
    b = min(b_regs, b_smem, b_thr, 32)
    return b * w * 32 / max_thr

def loads(op):
    # shared-load instructions and bytes per thread
    if op.startswith("LDSM"):
        n = 4 if ".x4" in op.lower() or op.endswith("4") else 2 if ".x2" in op.lower() or op.endswith("2") else 1
        m = re.search(r"\.M88\.(\d)", op)
        if m:
            n = int(m.group(1))
        return 1, 4 * n, False
    if op.startswith("LDS") and not op.startswith("LDSM"):
        if ".U16" in op or ".S16" in op:
            return 1, 2, True
        if ".U8" in op or ".S8" in op:
            return 1, 1, False
        if ".128" in op:
            return 1, 16, False
        if ".64" in op:
            return 1, 8, False
        return 1, 4, False
    return 0, 0, False

def main_loop(body):
    pos = {}
    idx = []
    for i, (k, v) in enumerate(body):
        if k == "label":
            pos[v] = i
    best = None
    for i, (k, v) in enumerate(body):
        if k != "ins" or "BRA" not in opcode(v):
            continue
        m = re.search(r"\(\s*(\.L_x_\d+)\s*\)", v)
        if not m or m.group(1) not in pos or pos[m.group(1)] >= i:
            continue
        seg = [x for kk, x in body[pos[m.group(1)]:i + 1] if kk == "ins"]
        if any(opcode(x).startswith("HMMA") for x in seg) and (best is None or len(seg) < len(best)):
            best = seg
    return best

names = demangle(order)
for f in order:
    name = names.get(f, f)
    if filt and filt not in name:
        continue
    short = re.sub(r"\(sd_cuda_\w+\)$", "", name).replace("sdk::", "").replace("(anonymous namespace)::", "")
    short = short.replace("__nv_bfloat16", "bf16").replace("__half", "f16").replace("void ", "")
    r = res.get(f, {"regs": 0, "spill": 0, "smem": 0})
    thr = threads.get(f, 0) if isinstance(threads.get(f, 0), int) else 0
    dyn = dyn_smem(name)
    smem = r["smem"] + max(dyn, 0)
    occ = occupancy(r["regs"], smem, thr)
    smem_s = str(smem) if dyn >= 0 else f"{r['smem']}+d"
    loop = main_loop(funcs[f])
    if loop is None:
        tail = "%4s %4s %8s %6s %5s %8s" % ("-", "-", "-", "-", "-", "-")
    else:
        h = sum(1 for x in loop if opcode(x).startswith("HMMA"))
        nl = nb = n16 = 0
        for x in loop:
            c, b, s16 = loads(opcode(x))
            nl += c; nb += b; n16 += s16
        ins = sum(1 for x in loop if opcode(x) != "NOP")
        tail = "%4d %4d %8.2f %6.0f %5d %8.2f" % (h, nl, nl / h, nb * 32 / h, n16, ins / h)
    print("%-58s %4d %4d %5d %6s %4d %4.2f | %s" % (short[:58], arch, r["regs"], r["spill"], smem_s, thr, occ, tail))
EOF
    done
done

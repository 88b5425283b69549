"""torch_verify.py — sampled fp64 verification of a torch output, the rule of src/core/verify.c:
    max_rel_err = max |out - ref| / rms(ref over the sample)     (rms 0 -> absolute error)
over a stratified sample (first and last element always in it):
    gemm       up to 32 rows of C (all n columns)
    conv2d     up to 2048 outputs: up to 64 output pixels x up to 2048/npix channels
    attention  up to 32 (batch_head, query) rows, all head_dim columns
The reference is computed on the host in float64 from the very inputs the op read (already
rounded to the row's dtype), after the whole output was checked for NaN/Inf.
"""
import math
import random

import torch
import torch.nn.functional as F

import sdmark_suite as suites

GEMM_ROWS, CONV_ELEMS, CONV_PIXELS, ATTN_ROWS = 32, 2048, 64, 32


def sample(cnt, total, rng):
    """cnt distinct indices in [0, total), one per stratum, the first and last pinned to the ends."""
    out = []
    for i in range(cnt):
        lo, hi = i * total // cnt, (i + 1) * total // cnt
        out.append(0 if i == 0 else total - 1 if i == cnt - 1 else rng.randrange(lo, hi))
    return out


def _d(t):
    return t.detach().to("cpu", torch.float64)


def ref_gemm(wl, a, b, out, rng):
    m, n, k = wl["m"], wl["n"], wl["k"]
    total = wl["batch"] * m
    rows = sample(min(total, GEMM_ROWS), total, rng)
    a2, o2 = a.reshape(-1, k), out.reshape(-1, n)
    b3 = b.reshape(-1, k, n)
    outs, refs = [], []
    for bt in sorted({r // m for r in rows}):
        sel = torch.tensor([r for r in rows if r // m == bt], device=a.device)
        refs.append(_d(a2[sel]) @ _d(b3[bt]))
        outs.append(_d(o2[sel]))
    return torch.cat(outs), torch.cat(refs)


def _conv_counts(wl):
    npix_total, cout = wl["batch"] * wl["h"] * wl["w"], wl["c_out"]
    if npix_total * cout <= CONV_ELEMS:
        return npix_total, cout
    npix = min(npix_total, CONV_PIXELS)
    nco = min(CONV_ELEMS // npix, cout)
    if nco == cout and npix < npix_total:
        npix = min(CONV_ELEMS // cout, npix_total)
    return npix, nco


def _patch(wl, x, b, oy, ox):
    """Input patch of output pixel (b, oy, ox), zero where padded: [c_in, r, s] in fp64."""
    H, W = wl["h"] * wl["stride"], wl["w"] * wl["stride"]
    y0, x0 = oy * wl["stride"] - wl["pad"], ox * wl["stride"] - wl["pad"]
    y1, x1 = y0 + wl["r"], x0 + wl["s"]
    region = _d(x[b, :, max(y0, 0):min(y1, H), max(x0, 0):min(x1, W)])
    return F.pad(region, (max(-x0, 0), max(x1 - W, 0), max(-y0, 0), max(y1 - H, 0)))


def ref_conv(wl, x, w, out, rng):
    hw, cout = wl["h"] * wl["w"], wl["c_out"]
    npix, nco = _conv_counts(wl)
    w2 = w.reshape(cout, -1)
    outs, refs = [], []
    for i, pix in enumerate(sample(npix, wl["batch"] * hw, rng)):
        b, rem = divmod(pix, hw)
        oy, ox = divmod(rem, wl["w"])
        cos = sample(nco, cout, random.Random(i))
        refs.append(_d(w2[cos]) @ _patch(wl, x, b, oy, ox).reshape(-1))
        outs.append(_d(out[b, cos, oy, ox]))
    return torch.cat(outs), torch.cat(refs)


def ref_attention(q, k, v, out, rng):
    """q, out [1, bh, sq, d]; k, v [1, bh, skv, d]."""
    bh, sq, d = q.shape[1], q.shape[2], q.shape[3]
    rows = sample(min(bh * sq, ATTN_ROWS), bh * sq, rng)
    outs, refs = [], []
    for h in sorted({r // sq for r in rows}):
        sel = torch.tensor([r % sq for r in rows if r // sq == h], device=q.device)
        s = (_d(q[0, h, sel]) @ _d(k[0, h]).T) / math.sqrt(d)
        refs.append(torch.softmax(s, dim=-1) @ _d(v[0, h]))
        outs.append(_d(out[0, h, sel]))
    return torch.cat(outs).reshape(-1), torch.cat(refs).reshape(-1)


def verify(wl, inputs, out):
    """(passed, max_rel_err or None, tolerance, reason)."""
    tol = suites.tolerance(wl)
    finite = torch.isfinite(out)
    if not bool(finite.all()):
        bad = int((~finite).reshape(-1).nonzero()[0])
        val = float(out.reshape(-1)[bad])
        return False, None, tol, "%s at element %d of %d" % ("NaN" if val != val else "Inf", bad, out.numel())
    rng = random.Random(0x5D3A7C1E9B2F4D61)
    if wl["op"] == "gemm":
        o, r = ref_gemm(wl, inputs[0], inputs[1], out, rng)
    elif wl["op"] == "conv2d":
        o, r = ref_conv(wl, inputs[0], inputs[1], out, rng)
    else:
        o, r = ref_attention(inputs[0], inputs[1], inputs[2], out, rng)
    o, r = o.reshape(-1), r.reshape(-1)
    rms = float(torch.sqrt(torch.mean(r * r)))
    err = (o - r).abs()
    worst = int(torch.argmax(err))
    rel = float(err[worst]) / (rms if rms > 0 else 1.0)
    if rel <= tol:
        return True, rel, tol, ""
    return False, rel, tol, "max_rel_err %.3g > %.3g at sample %d (out %.6g, ref %.6g, rms %.3g)" % (
        rel, tol, worst, float(o[worst]), float(r[worst]), rms)

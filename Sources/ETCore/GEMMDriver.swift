import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Size letters: C[M×N] = op(A)[M×K] · op(B)[K×N], row-major.

/// Cache blocking of the packed SGEMM (GotoBLAS order: NC ⊃ KC ⊃ MC ⊃ 16 ⊃ 6).
///
/// A KC×16 panel of B (24 KiB) lives in L1, an MC×KC block of A (144 KiB) and the KC×NC block
/// of B (768 KiB) in L2. KC 384 / NC 512 measured against 256 / 1024 (`etrack bench-kernels`, AVX-512):
/// the one-stream stems (K = 288, 576) +5…20 %, other shapes within noise.
enum GEMMBlocking {
    static let mr = Int(CK_GEMM_MR), nr = Int(CK_GEMM_NR)
    static let mc = 96, kc = 384, nc = 512
    /// Jobs below this many flops run on one thread (≈100 µs at 90 GFLOP/s).
    static let parallelFlops = 8_000_000

    /// K blocks of equal size (at most KC), so a K of 300 becomes 150 + 150 rather than 256 + 44.
    @inline(__always) static func kBlock(_ k: Int) -> Int {
        let blocks = (k + kc - 1) / kc
        return (k + blocks - 1) / blocks
    }
}

/// One GEMM operand as the driver sees it: raw strided memory, or pre-packed.
enum GEMMOperand {
    /// op(X)[i][j] = p[i*rs + j*cs]
    case raw(UnsafePointer<Float>, rs: Int, cs: Int)
    case packed(PackedMatrix)
    /// The im2col matrix of a convolution input (right operand only), packed block by block
    /// straight from the input, so it is never materialised.
    case im2col(ConvolutionSource)

    static func strided(_ p: UnsafePointer<Float>, ld: Int, transposed: Bool) -> GEMMOperand {
        transposed ? .raw(p, rs: 1, cs: ld) : .raw(p, rs: ld, cs: 1)
    }
}

/// A convolution input seen as its K×N im2col matrix (K = C·KH·KW, N = OH·OW).
struct ConvolutionSource {
    var geometry: ck_conv_geom
    var input: UnsafePointer<Float>
    var channels: Int

    func packBlock(p0: Int, kc: Int, j0: Int, nc: Int, into pb: UnsafeMutablePointer<Float>) {
        var g = geometry
        ck_im2col_pack_block(&g, input, channels, p0, kc, j0, nc, pb)
    }
}

enum GEMMDriver {
    /// C = (accumulate ? C : 0) + op(A)·op(B) (+ bias) then activation; splits over the pool
    /// when the job is large enough.
    static func run(m: Int, n: Int, k: Int, a: GEMMOperand, b: GEMMOperand,
                    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                    bias: UnsafePointer<Float>?, biasPerRow: Bool, activation: Activation, pool: ThreadPool) {
        if m <= 0 || n <= 0 { return }
        var ep = ck_epilogue(bias: bias, bias_per_row: biasPerRow ? 1 : 0, act: activation.ck)
        if k <= 0 {
            for i in 0..<m {
                for j in 0..<n {
                    var v: Float = accumulate ? c[i * ldc + j] : 0
                    if let bias { v += biasPerRow ? bias[i] : bias[j] }
                    c[i * ldc + j] = activation.apply(v)
                }
            }
            return
        }
        if case let .raw(pa, ars, acs) = a, case let .raw(pb, brs, bcs) = b, m == 1 || n == 1 {
            gemv(m: m, n: n, k: k, a: pa, ars: ars, acs: acs, b: pb, brs: brs, bcs: bcs, c: c, ldc: ldc,
                 accumulate: accumulate, bias: bias, biasPerRow: biasPerRow, activation: activation)
            return
        }
        let flops = 2 * m * n * k
        let threads = min(pool.threadCount, 2)
        if threads > 1 && flops >= GEMMBlocking.parallelFlops && (n >= 64 || m >= 24) {
            // Split along N (16-aligned) when wide enough, else along M (6-aligned).
            let alongN = n >= 64
            let unit = alongN ? GEMMBlocking.nr : GEMMBlocking.mr
            let total = alongN ? n : m
            let tiles = (total + unit - 1) / unit
            pool.parallelFor(threads) { t in
                let lo = min(total, tiles * t / threads * unit)
                let hi = t == threads - 1 ? total : min(total, tiles * (t + 1) / threads * unit)
                if hi <= lo { return }
                // Each thread its own epilogue: `blocked` moves its bias pointer to the tile it
                // computes, so a shared one raced (ThreadSanitizer, scripts/hardening/tsan.sh).
                var own = ep
                withUnsafeMutablePointer(to: &own) { e in
                    if alongN {
                        blocked(i0: 0, i1: m, j0: lo, j1: hi, k: k, a: a, b: b, c: c, ldc: ldc,
                                accumulate: accumulate, ep: e)
                    } else {
                        blocked(i0: lo, i1: hi, j0: 0, j1: n, k: k, a: a, b: b, c: c, ldc: ldc,
                                accumulate: accumulate, ep: e)
                    }
                }
            }
            return
        }
        withUnsafeMutablePointer(to: &ep) { e in
            blocked(i0: 0, i1: m, j0: 0, j1: n, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, ep: e)
        }
    }

    /// The blocked loops over rows i0..<i1 and columns j0..<j1 (i0 a multiple of 6, j0 of 16),
    /// on the calling thread with its own packing buffers.
    static func blocked(i0: Int, i1: Int, j0: Int, j1: Int, k: Int, a: GEMMOperand, b: GEMMOperand,
                        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                        ep: UnsafeMutablePointer<ck_epilogue>) {
        let ws = Workspace.current
        let kb = GEMMBlocking.kBlock(k)
        let bias = ep.pointee.bias
        let perRow = ep.pointee.bias_per_row != 0
        var jc = j0
        while jc < j1 {
            let nc = min(GEMMBlocking.nc, j1 - jc)
            var pc = 0
            while pc < k {
                let kc = min(kb, k - pc)
                let pb: UnsafePointer<Float>
                switch b {
                case let .raw(p, rs, cs):
                    ck_sgemm_pack_b(kc, nc, p + pc * rs + jc * cs, rs, cs, ws.packB)
                    pb = UnsafePointer(ws.packB)
                case let .packed(pm):
                    pb = pm.panel(pc: pc, outer: jc, kc: kc)
                case let .im2col(src):
                    src.packBlock(p0: pc, kc: kc, j0: jc, nc: nc, into: ws.packB)
                    pb = UnsafePointer(ws.packB)
                }
                let last = pc + kc == k
                var ic = i0
                while ic < i1 {
                    let mc = min(GEMMBlocking.mc, i1 - ic)
                    let pa: UnsafePointer<Float>
                    switch a {
                    case let .raw(p, rs, cs):
                        ck_sgemm_pack_a(mc, kc, p + ic * rs + pc * cs, rs, cs, ws.packA)
                        pa = UnsafePointer(ws.packA)
                    case let .packed(pm):
                        pa = pm.panel(pc: pc, outer: ic, kc: kc)
                    case .im2col:
                        preconditionFailure("GEMMDriver: an im2col operand can only be B")
                    }
                    let cBlock = c + ic * ldc + jc
                    let loadC: Int32 = (accumulate || pc > 0) ? 1 : 0
                    if last {
                        ep.pointee.bias = bias.map { perRow ? $0 + ic : $0 + jc }
                        ck_sgemm_macro(mc, nc, kc, pa, pb, cBlock, ldc, loadC, ep)
                    } else {
                        ck_sgemm_macro(mc, nc, kc, pa, pb, cBlock, ldc, loadC, nil)
                    }
                    ic += mc
                }
                pc += kc
            }
            jc += nc
        }
        ep.pointee.bias = bias
    }

    /// m == 1 or n == 1: matrix–vector products (memory-bound; no packing).
    static func gemv(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                     b: UnsafePointer<Float>, brs: Int, bcs: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                     accumulate: Bool, bias: UnsafePointer<Float>?, biasPerRow: Bool, activation: Activation) {
        let buf = Workspace.current.extraBuffer(k + max(m, n))
        let load: Int32 = accumulate ? 1 : 0
        if n == 1 {
            // c[i*ldc] = Σ_p A[i][p] · B[p][0]
            var x = b
            if brs != 1 {
                for p in 0..<k { buf[p] = b[p * brs] }
                x = UnsafePointer(buf)
            }
            if acs == 1 {
                ck_sgemv_rows(m, k, a, ars, x, 1, c, ldc, load)
            } else {
                // Transposed A (ars == 1): A[i][p] = a[p*acs + i], an axpy over the rows of Aᵀ.
                let y = buf + k
                ck_sgemv_cols(m, k, x, 1, a, acs, y, 0)
                for i in 0..<m { c[i * ldc] = accumulate ? c[i * ldc] + y[i] : y[i] }
            }
        } else {
            // m == 1: c[j] = Σ_p A[0][p] · B[p][j]
            var x = a
            if acs != 1 {
                for p in 0..<k { buf[p] = a[p * acs] }
                x = UnsafePointer(buf)
            }
            if bcs == 1 {
                ck_sgemv_cols(n, k, x, 1, b, brs, c, load)
            } else {
                // Transposed B (brs == 1): B[p][j] = b[j*bcs + p], dot products of its rows.
                ck_sgemv_rows(n, k, b, bcs, x, 1, c, 1, load)
            }
        }
        // Epilogue over the m·n (= max(m, n)) outputs.
        let count = max(m, n), stride = n == 1 ? ldc : 1
        for i in 0..<count {
            var v = c[i * stride]
            if let bias { v += (biasPerRow ? (m == 1 ? bias[0] : bias[i]) : (n == 1 ? bias[0] : bias[i])) }
            c[i * stride] = v
        }
        if activation != .identity {
            if stride == 1 {
                Kernels.activate(c, count: count, activation)
            } else {
                for i in 0..<count { c[i * stride] = activation.apply(c[i * stride]) }
            }
        }
    }
}

import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A constant GEMM operand (weights) packed once into the micro-kernel's panel layout, so the
/// per-call packing of that operand disappears.
///
/// `.left` holds op(A) (M×K) for `C = A·B` with A the weights (convolutions: weights × im2col);
/// `.right` holds op(B) (K×N) (ONNX Gemm/MatMul with constant B: activations × weights).
/// Immutable after init and safe to share between threads.
public final class PackedMatrix: @unchecked Sendable {
    public enum Side: Sendable { case left, right }
    public let side: Side
    /// Rows and columns of op(X): M×K for `.left`, K×N for `.right`.
    public let rows: Int, cols: Int
    /// M or N rounded up to the micro-tile (6 or 16).
    let paddedOuter: Int
    let storage: UnsafeMutablePointer<Float>

    /// Packs op(X)[rows × cols], where op(X)[i][j] = data[i*ld + j], or data[j*ld + i] when
    /// `transposed`.
    /// - Parameter side: which GEMM operand this is.
    public init(side: Side, rows: Int, cols: Int, data: UnsafePointer<Float>, ld: Int, transposed: Bool) {
        precondition(rows >= 0 && cols >= 0, "PackedMatrix: negative size \(rows)×\(cols)")
        self.side = side
        self.rows = rows
        self.cols = cols
        let rs = transposed ? 1 : ld, cs = transposed ? ld : 1
        switch side {
        case .left:
            let m = rows, k = cols
            paddedOuter = (m + GEMMBlocking.mr - 1) / GEMMBlocking.mr * GEMMBlocking.mr
            storage = Workspace.alignedFloats(paddedOuter * k)
            let kb = GEMMBlocking.kBlock(k)
            var pc = 0
            while pc < k {
                let kc = min(kb, k - pc)
                ck_sgemm_pack_a(m, kc, data + pc * cs, rs, cs, storage + pc * paddedOuter)
                pc += kc
            }
        case .right:
            let k = rows, n = cols
            paddedOuter = (n + GEMMBlocking.nr - 1) / GEMMBlocking.nr * GEMMBlocking.nr
            storage = Workspace.alignedFloats(paddedOuter * k)
            let kb = GEMMBlocking.kBlock(k)
            var pc = 0
            while pc < k {
                let kc = min(kb, k - pc)
                ck_sgemm_pack_b(kc, n, data + pc * rs, rs, cs, storage + pc * paddedOuter)
                pc += kc
            }
        }
    }

    /// Packs a dense row-major array: op(X) = X (`rows × cols`), or Xᵀ when `transposed` (X is
    /// then `cols × rows`, as ONNX Gemm's B with transB = 1).
    public static func packing(side: Side, rows: Int, cols: Int, _ data: [Float], transposed: Bool = false) -> PackedMatrix {
        precondition(data.count >= rows * cols, "PackedMatrix: \(data.count) floats for \(rows)×\(cols)")
        return data.withUnsafeBufferPointer { p in
            PackedMatrix(side: side, rows: rows, cols: cols, data: p.baseAddress ?? UnsafePointer(bitPattern: 16)!,
                         ld: max(1, transposed ? rows : cols), transposed: transposed)
        }
    }

    deinit { free(storage) }

    /// Start of the panel for K offset `pc` (a block start) and outer offset `outer` (a multiple
    /// of 6 or 16).
    @inline(__always) func panel(pc: Int, outer: Int, kc: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage + pc * paddedOuter + outer * kc)
    }
}

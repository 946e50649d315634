import ETCore
import Foundation

/// The float type a training network runs in. `Float` is the product (the same GEMM kernels as
/// inference); `Double` runs the very same layer code with a naive GEMM so the gradient checks can
/// compare every backward pass against float64 central differences, not against float32 noise.
public protocol TrainingScalar: BinaryFloatingPoint & Sendable {
    /// C = op(A)·op(B) (+ C when `accumulate`); op transposes when asked. Row-major, leading dims.
    static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int, transA: Bool,
                     b: UnsafePointer<Self>, ldb: Int, transB: Bool, c: UnsafeMutablePointer<Self>, ldc: Int,
                     accumulate: Bool, pool: ThreadPool)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
}

extension Float: TrainingScalar {
    @inline(__always)
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool,
                            b: UnsafePointer<Float>, ldb: Int, transB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool, pool: ThreadPool) {
        Kernels.gemm(m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB,
                     c: c, ldc: ldc, accumulate: accumulate, pool: pool)
    }
    @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) public static func erf(_ x: Float) -> Float { Foundation.erf(x) }
}

extension Double: TrainingScalar {
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int, transA: Bool,
                            b: UnsafePointer<Double>, ldb: Int, transB: Bool, c: UnsafeMutablePointer<Double>, ldc: Int,
                            accumulate: Bool, pool: ThreadPool) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j])
                }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s
            }
        }
    }
    @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func erf(_ x: Double) -> Double { Foundation.erf(x) }
}

public typealias MP<T> = UnsafeMutablePointer<T>
public typealias CP<T> = UnsafePointer<T>

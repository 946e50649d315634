import Foundation

/// Splits work over N threads. One thread (the default) runs everything inline.
///
/// The current implementation uses `DispatchQueue.concurrentPerform`; the kernels only call
/// `parallelFor`, so a persistent spinning pool can replace it without touching them.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int

    public init(threads: Int = 1) {
        self.threadCount = max(1, threads)
    }

    /// Runs `body(i)` for i in 0..<count, spread over the pool's threads; returns when all are done.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if threadCount == 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: count) { body($0) }
    }

    /// The shared single-threaded pool.
    public static let serial = ThreadPool(threads: 1)
}

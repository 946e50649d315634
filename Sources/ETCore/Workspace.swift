#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread packing buffers for the GEMM driver and the depthwise kernels.
///
/// Each thread gets its own (thread-local, created on first use, freed when the thread exits), so
/// kernels may run on several threads at once, and no call allocates after warm-up.
final class Workspace {
    /// op(A) block: MC × KC floats.
    let packA: UnsafeMutablePointer<Float>
    /// op(B) block: KC × NC floats.
    let packB: UnsafeMutablePointer<Float>
    private var extra: UnsafeMutablePointer<Float>
    private var extraCount = 0

    private init() {
        packA = Workspace.alignedFloats(GEMMBlocking.mc * GEMMBlocking.kc)
        packB = Workspace.alignedFloats(GEMMBlocking.kc * GEMMBlocking.nc)
        extra = Workspace.alignedFloats(16)
        extraCount = 16
    }

    deinit {
        free(packA)
        free(packB)
        free(extra)
    }

    /// A buffer of at least `count` floats (contents undefined), grown as needed.
    func extraBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > extraCount {
            free(extra)
            extraCount = max(count, extraCount * 2)
            extra = Workspace.alignedFloats(extraCount)
        }
        return extra
    }

    static func alignedFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, max(1, count) * MemoryLayout<Float>.stride)
        precondition(rc == 0 && raw != nil, "Workspace: out of memory for \(count) floats")
        return raw!.bindMemory(to: Float.self, capacity: count)
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        #if canImport(Glibc)
        pthread_key_create(&key) { p in
            if let p { Unmanaged<Workspace>.fromOpaque(p).release() }
        }
        #else
        pthread_key_create(&key) { p in Unmanaged<Workspace>.fromOpaque(p).release() }
        #endif
        return key
    }()

    /// The calling thread's workspace.
    static var current: Workspace {
        if let p = pthread_getspecific(key) { return Unmanaged<Workspace>.fromOpaque(p).takeUnretainedValue() }
        let w = Workspace()
        pthread_setspecific(key, Unmanaged.passRetained(w).toOpaque())
        return w
    }
}

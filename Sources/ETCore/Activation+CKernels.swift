import CKernels

extension Activation {
    /// The C kernels' encoding of this activation.
    @usableFromInline
    var ck: ck_activation {
        switch self {
        case .identity: return ck_activation(kind: Int32(CK_ACT_IDENTITY), p0: 0, p1: 0)
        case .relu: return ck_activation(kind: Int32(CK_ACT_RELU), p0: 0, p1: 0)
        case let .clip(lo, hi): return ck_activation(kind: Int32(CK_ACT_CLIP), p0: lo, p1: hi)
        case .hardSwish: return ck_activation(kind: Int32(CK_ACT_HARDSWISH), p0: 0, p1: 0)
        case let .hardSigmoid(a, b): return ck_activation(kind: Int32(CK_ACT_HARDSIGMOID), p0: a, p1: b)
        case .sigmoid: return ck_activation(kind: Int32(CK_ACT_SIGMOID), p0: 0, p1: 0)
        case .gelu: return ck_activation(kind: Int32(CK_ACT_GELU), p0: 0, p1: 0)
        }
    }
}

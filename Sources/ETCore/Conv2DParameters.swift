/// Geometry of a 2-D convolution over a batch-1 NCHW tensor.
///
/// Weights are OIHW: `outChannels × (inChannels / groups) × kernelH × kernelW`.
public struct Conv2DParameters: Equatable, Sendable, CustomStringConvertible {
    public var inChannels: Int
    public var outChannels: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int = 1
    public var strideW: Int = 1
    public var padTop: Int = 0
    public var padLeft: Int = 0
    public var padBottom: Int = 0
    public var padRight: Int = 0
    public var dilationH: Int = 1
    public var dilationW: Int = 1
    public var groups: Int = 1

    public init(inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int,
                strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.dilationH = dilationH; self.dilationW = dilationW; self.groups = groups
    }

    /// Weight element count (OIHW).
    public var weightCount: Int { outChannels * (inChannels / groups) * kernelH * kernelW }

    /// True when every group has one input and one output channel.
    public var isDepthwise: Bool { groups == inChannels && groups == outChannels }

    /// Output spatial size for an input of `inH × inW` (ONNX/PyTorch floor rule).
    public func outputSize(inH: Int, inW: Int) -> (h: Int, w: Int) {
        let eh = dilationH * (kernelH - 1) + 1, ew = dilationW * (kernelW - 1) + 1
        return ((inH + padTop + padBottom - eh) / strideH + 1, (inW + padLeft + padRight - ew) / strideW + 1)
    }

    public var description: String {
        "conv \(inChannels)->\(outChannels) k\(kernelH)x\(kernelW) s\(strideH)x\(strideW) p\(padTop),\(padLeft),\(padBottom),\(padRight) d\(dilationH)x\(dilationW) g\(groups)"
    }
}

import ETCore
import Foundation

/// Records an ONNX graph node by node, naming values and nodes, and turns it into an
/// `ONNXModelDefinition` to serialise. Building only records; nothing is computed or checked
/// until `ONNXModelDefinition.validate()` (called by `serialized()`/`write(to:)`), which names
/// any dangling input or duplicate value.
///
/// Values are referred to by name (`String`), as in ONNX. Every op method returns the name of
/// its output, generated from the node name (`"<node>_out"`), so a chain reads like the model:
///
/// ```swift
/// var g = ONNXGraphBuilder(name: "demo", opset: 17)
/// let x = g.input("search", dims: [1, 3, 256, 256])
/// let w = g.initializer("stem.0.weight", weightTensor)        // (C_out, C_in, 3, 3)
/// var y = g.conv(x, weight: w, strides: [2, 2], pads: [1, 1, 1, 1], name: "stem.0")
/// y = g.hardSwish(y)
/// g.output(y, as: "output1", dims: [1, 16, 128, 128])
/// try g.model(metadata: [("etrack.config", "demo")]).write(to: "demo.onnx")
/// ```
///
/// Attributes are always written explicitly (also where they equal the ONNX default), because
/// OpenCV's importer and some runtimes disagree about a few defaults (e.g. HardSigmoid's alpha).
/// Ops whose form changed across opsets (Slice 10, Split 13/18, ReduceMean 18, Softmax 13,
/// Gelu 20) are written in the form of the builder's `opset`.
public struct ONNXGraphBuilder {
    /// The graph recorded so far.
    public private(set) var graph: ONNXGraphDefinition
    /// Version of the default ai.onnx opset the ops are written for.
    public let opset: Int

    private var valueNames = Set<String>()
    private var nodeNames = Set<String>()
    /// Value name → index of the node that produces it.
    private var producer: [String: Int] = [:]
    /// Dims of initializers, so Conv can write `kernel_shape`.
    private var initializerDims: [String: [Int]] = [:]
    private var scalarNames: [UInt32: String] = [:]
    private var intVectorNames: [[Int64]: String] = [:]
    private var nodeCounter = 0
    /// Values renamed by `output(_:as:)`: old name → new name, applied to later node inputs.
    private var aliases: [String: String] = [:]

    /// - Parameters:
    ///   - name: the graph's name (GraphProto.name).
    ///   - opset: ai.onnx opset version, 13 or later (17 by default; 20 writes Gelu as one node).
    public init(name: String, opset: Int = 17) {
        precondition(opset >= 13 && opset <= 22, "ONNXGraphBuilder: opset \(opset) is not supported (13 to 22 are)")
        self.graph = ONNXGraphDefinition(name: name)
        self.opset = opset
    }

    /// The recorded graph as a model (ir_version from the opset unless given, producer "EfficientTrack").
    /// - Parameters:
    ///   - metadata: `metadata_props`, in this order.
    ///   - producerVersion: e.g. the etrack version.
    public func model(metadata: [(key: String, value: String)] = [], producerVersion: String = "",
                      irVersion: Int64? = nil, docString: String = "") -> ONNXModelDefinition {
        ONNXModelDefinition(graph: graph, opset: opset, irVersion: irVersion, producerVersion: producerVersion,
                            metadata: metadata, docString: docString)
    }

    // MARK: Declarations

    /// Declares a graph input with fixed dims and returns its name.
    @discardableResult
    public mutating func input(_ name: String, dims: [Int], elementType: ONNXDataType = .float) -> String {
        input(name, shape: dims.map { .value($0) }, elementType: elementType)
    }

    /// Declares a graph input whose dims may be symbolic and returns its name.
    @discardableResult
    public mutating func input(_ name: String, shape: [ONNXDimension]?, elementType: ONNXDataType = .float) -> String {
        valueNames.insert(name)
        graph.inputs.append(ONNXValueDeclaration(name: name, elementType: elementType, shape: shape))
        return name
    }

    /// Declares `value` a graph output, renamed to `name` when given (the producing node's output
    /// is renamed; an `Identity` is added when `value` is a graph input, an initializer or
    /// already an output). Later ops may still refer to `value` by its old name.
    /// - Parameter dims: the output's shape. nil leaves it undeclared, which ONNX Runtime and
    ///   our reader accept but `onnx.checker.check_model` rejects for graph outputs: pass it.
    public mutating func output(_ value: String, as name: String? = nil, dims: [Int]?, elementType: ONNXDataType = .float) {
        output(value, as: name, shape: dims.map { $0.map { .value($0) } }, elementType: elementType)
    }

    /// Declares `value` a graph output whose dims may be symbolic (see `output(_:as:dims:elementType:)`).
    public mutating func output(_ value: String, as name: String? = nil, shape: [ONNXDimension]?, elementType: ONNXDataType = .float) {
        var v = aliases[value] ?? value
        let value = v
        if let name, name != value {
            let alreadyOutput = graph.outputs.contains { $0.name == value }
            if let k = producer[value], !alreadyOutput {
                rename(value, to: name, producedBy: k)
                v = name
            } else {
                v = node("Identity", [value], outputNames: [name], name: name)[0]
            }
        }
        graph.outputs.append(ONNXValueDeclaration(name: v, elementType: elementType, shape: shape))
    }

    /// Records the shape of an intermediate value (`value_info`); optional, for readers and viewers.
    public mutating func annotate(_ value: String, dims: [Int], elementType: ONNXDataType = .float) {
        graph.valueInfo.append(ONNXValueDeclaration(name: value, elementType: elementType, dims: dims))
    }

    /// Adds a float32 initializer with the given name (e.g. "blocks.0.attn.qkv.weight") and returns it.
    @discardableResult
    public mutating func initializer(_ name: String, _ tensor: Tensor) -> String {
        initializer(ONNXTensorValue(name: name, dims: tensor.shape, floats: tensor.data))
    }

    /// Adds an initializer (float32 or int64) and returns its name.
    @discardableResult
    public mutating func initializer(_ value: ONNXTensorValue) -> String {
        valueNames.insert(value.name)
        initializerDims[value.name] = value.dims
        graph.initializers.append(value)
        return value.name
    }

    /// A float32 scalar initializer (shape `[]`), shared by every use of the same value.
    public mutating func scalar(_ v: Float) -> String {
        if let n = scalarNames[v.bitPattern] { return n }
        let n = uniqueValueName("const_\(formatted(v))")
        scalarNames[v.bitPattern] = n
        return initializer(ONNXTensorValue(name: n, dims: [], floats: [v]))
    }

    /// An int64 vector initializer (shape `[count]`), shared by every use of the same values;
    /// used for Reshape shapes, Slice bounds, Split sizes and ReduceMean axes.
    public mutating func int64s(_ v: [Int], hint: String = "ints") -> String {
        let key = v.map { Int64($0) }
        if let n = intVectorNames[key] { return n }
        let n = uniqueValueName("const_\(hint)_" + v.map { $0 < 0 ? "m\(-$0)" : "\($0)" }.joined(separator: "_"))
        intVectorNames[key] = n
        return initializer(ONNXTensorValue(name: n, dims: [v.count], int64s: key))
    }

    // MARK: Generic node

    /// Records a node of any op and returns its output names (generated from the node name).
    /// - Parameters:
    ///   - inputs: input value names ("" for an omitted optional input).
    ///   - outputs: number of outputs.
    ///   - name: the node name; generated as "<OpType>_<k>" when nil; made unique either way.
    @discardableResult
    public mutating func node(_ opType: String, _ inputs: [String], outputs: Int = 1,
                              attributes: [(name: String, value: ONNXAttributeValue)] = [],
                              name: String? = nil, domain: String = "") -> [String] {
        let nodeName = uniqueNodeName(name ?? "\(opType)_\(nodeCounter)")
        let outs = (0..<outputs).map { uniqueValueName(outputs == 1 ? "\(nodeName)_out" : "\(nodeName)_out\($0)") }
        return node(opType, inputs, outputNames: outs, attributes: attributes, name: nodeName, domain: domain)
    }

    /// Records a node with explicit output names.
    @discardableResult
    public mutating func node(_ opType: String, _ inputs: [String], outputNames: [String],
                              attributes: [(name: String, value: ONNXAttributeValue)] = [],
                              name: String? = nil, domain: String = "") -> [String] {
        let nodeName = name.map { nodeNames.contains($0) ? uniqueNodeName($0) : $0 } ?? uniqueNodeName("\(opType)_\(nodeCounter)")
        nodeNames.insert(nodeName)
        nodeCounter += 1
        for o in outputNames where !o.isEmpty {
            valueNames.insert(o)
            producer[o] = graph.nodes.count
        }
        graph.nodes.append(ONNXNodeDefinition(opType: opType, name: nodeName, domain: domain, inputs: inputs.map { aliases[$0] ?? $0 },
                                              outputs: outputNames, attributes: attributes))
        return outputNames
    }

    private mutating func one(_ opType: String, _ inputs: [String], _ attributes: [(name: String, value: ONNXAttributeValue)] = [],
                              name: String?) -> String {
        node(opType, inputs, outputs: 1, attributes: attributes, name: name)[0]
    }

    // MARK: Convolution and matrix products

    /// `Conv` (2-D, NCHW input, OIHW weight): `y = conv(x, W) + b`.
    /// - Parameters:
    ///   - pads: ONNX order `[top, left, bottom, right]`.
    ///   - groups: `group`; equal to the input channels for a depthwise convolution.
    ///   - kernelShape: written as `kernel_shape`; taken from the weight when it is an initializer of this builder.
    public mutating func conv(_ x: String, weight: String, bias: String? = nil, strides: [Int] = [1, 1],
                              pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1], groups: Int = 1,
                              kernelShape: [Int]? = nil, name: String? = nil) -> String {
        precondition(strides.count == 2 && dilations.count == 2 && pads.count == 4, "conv: 2-D strides/dilations and 4 pads expected")
        var attrs: [(name: String, value: ONNXAttributeValue)] = [("dilations", .ints(dilations.map { Int64($0) })), ("group", .int(Int64(groups)))]
        if let k = kernelShape ?? initializerDims[weight].flatMap({ $0.count == 4 ? Array($0[2...]) : nil }) {
            attrs.append(("kernel_shape", .ints(k.map { Int64($0) })))
        }
        attrs += [("pads", .ints(pads.map { Int64($0) })), ("strides", .ints(strides.map { Int64($0) }))]
        return one("Conv", bias.map { [x, weight, $0] } ?? [x, weight], attrs, name: name)
    }

    /// `Gemm`: `y = alpha * op(A) * op(B) + beta * C` for 2-D A and B.
    public mutating func gemm(_ a: String, _ b: String, _ c: String? = nil, alpha: Float = 1, beta: Float = 1,
                              transA: Bool = false, transB: Bool = false, name: String? = nil) -> String {
        one("Gemm", c.map { [a, b, $0] } ?? [a, b],
            [("alpha", .float(alpha)), ("beta", .float(beta)), ("transA", .int(transA ? 1 : 0)), ("transB", .int(transB ? 1 : 0))],
            name: name)
    }

    /// `MatMul` with NumPy batching/broadcasting.
    public mutating func matMul(_ a: String, _ b: String, name: String? = nil) -> String {
        one("MatMul", [a, b], name: name)
    }

    /// A PyTorch `nn.Linear` on the last axis: `y = x · Wᵀ + b` with `weight` shaped
    /// (C_out, C_in) as PyTorch stores it. Written as PyTorch's exporter does for inputs of any
    /// rank: an initializer `<name>.weight` holding Wᵀ (C_in, C_out), `MatMul`, then `Add` of
    /// `<name>.bias`. (For a 2-D input, `gemm(x, w, b, transB: true)` is the one-node form.)
    public mutating func linear(_ x: String, weight: Tensor, bias: Tensor?, name: String) -> String {
        precondition(weight.shape.count == 2, "linear '\(name)': weight must be (C_out, C_in), is \(weight.shape)")
        let (o, i) = (weight.shape[0], weight.shape[1])
        var wt = [Float](repeating: 0, count: o * i)
        for r in 0..<o { for c in 0..<i { wt[c * o + r] = weight.data[r * i + c] } }
        let w = initializer(ONNXTensorValue(name: "\(name).weight", dims: [i, o], floats: wt))
        let y = matMul(x, w, name: "\(name)/MatMul")
        guard let bias else { return y }
        precondition(bias.count == o, "linear '\(name)': bias has \(bias.count) values, expected \(o)")
        let b = initializer(ONNXTensorValue(name: "\(name).bias", dims: [o], floats: bias.data))
        return add(y, b, name: "\(name)/Add")
    }

    // MARK: Element-wise

    /// `Add`: `a + b`, NumPy broadcasting.
    public mutating func add(_ a: String, _ b: String, name: String? = nil) -> String { one("Add", [a, b], name: name) }
    /// `Sub`: `a - b`, NumPy broadcasting.
    public mutating func sub(_ a: String, _ b: String, name: String? = nil) -> String { one("Sub", [a, b], name: name) }
    /// `Mul`: `a * b`, NumPy broadcasting.
    public mutating func mul(_ a: String, _ b: String, name: String? = nil) -> String { one("Mul", [a, b], name: name) }
    /// `Div`: `a / b`, NumPy broadcasting.
    public mutating func div(_ a: String, _ b: String, name: String? = nil) -> String { one("Div", [a, b], name: name) }
    /// `Pow`: `a ^ b` (e.g. `pow(x, scalar(2))`).
    public mutating func pow(_ a: String, _ b: String, name: String? = nil) -> String { one("Pow", [a, b], name: name) }
    /// `Sqrt`: `√x`.
    public mutating func sqrt(_ x: String, name: String? = nil) -> String { one("Sqrt", [x], name: name) }
    /// `Erf`: the error function.
    public mutating func erf(_ x: String, name: String? = nil) -> String { one("Erf", [x], name: name) }
    /// `Relu`: `max(0, x)`.
    public mutating func relu(_ x: String, name: String? = nil) -> String { one("Relu", [x], name: name) }
    /// `Sigmoid`: `1 / (1 + e^-x)`.
    public mutating func sigmoid(_ x: String, name: String? = nil) -> String { one("Sigmoid", [x], name: name) }
    /// `Identity`: a copy (a renamed alias for a runtime).
    public mutating func identity(_ x: String, name: String? = nil) -> String { one("Identity", [x], name: name) }

    /// `HardSwish`: `x * max(0, min(1, x/6 + 1/2))`.
    public mutating func hardSwish(_ x: String, name: String? = nil) -> String { one("HardSwish", [x], name: name) }

    /// `HardSigmoid`: `max(0, min(1, alpha*x + beta))`. The defaults are PyTorch's
    /// `nn.Hardsigmoid` (alpha 1/6), not ONNX's (0.2); both attributes are always written.
    public mutating func hardSigmoid(_ x: String, alpha: Float = 1.0 / 6, beta: Float = 0.5, name: String? = nil) -> String {
        one("HardSigmoid", [x], [("alpha", .float(alpha)), ("beta", .float(beta))], name: name)
    }

    /// Exact GELU, `x/2 * (1 + erf(x/√2))`: one `Gelu` node from opset 20, else PyTorch's
    /// opset-17 decomposition `Div(x, √2) → Erf → Add(1) → Mul(x) → Mul(0.5)` (node names
    /// `<name>/Div`, ... so a profile still shows which GELU they belong to).
    public mutating func gelu(_ x: String, name: String? = nil) -> String {
        if opset >= 20 { return one("Gelu", [x], [("approximate", .string("none"))], name: name) }
        let base = name ?? "Gelu_\(nodeCounter)"
        let d = div(x, scalar(Float(2).squareRoot()), name: "\(base)/Div")
        let e = erf(d, name: "\(base)/Erf")
        let a = add(e, scalar(1), name: "\(base)/Add")
        let m = mul(x, a, name: "\(base)/Mul")
        return mul(m, scalar(0.5), name: "\(base)/Mul_1")
    }

    // MARK: Normalisation and reductions

    /// `Softmax` along `axis` (opset 13 semantics: one axis, not a coerced 2-D view).
    public mutating func softmax(_ x: String, axis: Int = -1, name: String? = nil) -> String {
        one("Softmax", [x], [("axis", .int(Int64(axis)))], name: name)
    }

    /// `LayerNormalization` (opset 17): normalises over the axes from `axis` to the last,
    /// `y = (x - mean) / sqrt(var + epsilon) * scale + bias`.
    /// - Precondition: the builder's opset is 17 or later.
    public mutating func layerNormalization(_ x: String, scale: String, bias: String?, axis: Int = -1,
                                            epsilon: Float = 1e-5, name: String? = nil) -> String {
        precondition(opset >= 17, "LayerNormalization needs opset 17, the builder writes opset \(opset)")
        return one("LayerNormalization", bias.map { [x, scale, $0] } ?? [x, scale],
                   [("axis", .int(Int64(axis))), ("epsilon", .float(epsilon))], name: name)
    }

    /// `ReduceMean` over `axes` (attribute before opset 18, input from 18).
    public mutating func reduceMean(_ x: String, axes: [Int], keepDims: Bool = true, name: String? = nil) -> String {
        if opset >= 18 {
            return one("ReduceMean", [x, int64s(axes, hint: "axes")], [("keepdims", .int(keepDims ? 1 : 0))], name: name)
        }
        return one("ReduceMean", [x], [("axes", .ints(axes.map { Int64($0) })), ("keepdims", .int(keepDims ? 1 : 0))], name: name)
    }

    // MARK: Shape manipulation

    /// `Reshape` to `shape` (an int64 initializer; 0 copies the input dim, -1 is inferred).
    public mutating func reshape(_ x: String, _ shape: [Int], name: String? = nil) -> String {
        one("Reshape", [x, int64s(shape, hint: "shape")], [("allowzero", .int(0))], name: name)
    }

    /// `Transpose` with the permutation `perm`.
    public mutating func transpose(_ x: String, perm: [Int], name: String? = nil) -> String {
        one("Transpose", [x], [("perm", .ints(perm.map { Int64($0) }))], name: name)
    }

    /// `Concat` along `axis`.
    public mutating func concat(_ xs: [String], axis: Int, name: String? = nil) -> String {
        one("Concat", xs, [("axis", .int(Int64(axis)))], name: name)
    }

    /// `Slice` (opset 10 form: starts/ends/axes/steps as int64 initializers).
    public mutating func slice(_ x: String, starts: [Int], ends: [Int], axes: [Int]? = nil, steps: [Int]? = nil,
                               name: String? = nil) -> String {
        var ins = [x, int64s(starts, hint: "starts"), int64s(ends, hint: "ends")]
        if let axes { ins.append(int64s(axes, hint: "axes")) }
        if let steps {
            if axes == nil { ins.append("") }
            ins.append(int64s(steps, hint: "steps"))
        }
        return one("Slice", ins, name: name)
    }

    /// `Split` along `axis` into parts of the given sizes (an int64 input, opset 13 form, valid in 18+).
    public mutating func split(_ x: String, axis: Int, sizes: [Int], name: String? = nil) -> [String] {
        node("Split", [x, int64s(sizes, hint: "split")], outputs: sizes.count, attributes: [("axis", .int(Int64(axis)))], name: name)
    }

    /// A `Constant` node holding `value` (its name is ignored; the output is named after the node).
    public mutating func constant(_ value: ONNXTensorValue, name: String? = nil) -> String {
        var v = value
        v.name = ""
        return one("Constant", [], [("value", .tensor(v))], name: name)
    }

    // MARK: Naming

    private func formatted(_ v: Float) -> String {
        String(describing: v).replacingOccurrences(of: "-", with: "m").replacingOccurrences(of: ".", with: "p")
    }

    private func uniqueValueName(_ base: String) -> String {
        if !valueNames.contains(base) { return base }
        var k = 1
        while valueNames.contains("\(base)_\(k)") { k += 1 }
        return "\(base)_\(k)"
    }

    private func uniqueNodeName(_ base: String) -> String {
        if !nodeNames.contains(base) { return base }
        var k = 1
        while nodeNames.contains("\(base)_\(k)") { k += 1 }
        return "\(base)_\(k)"
    }

    private mutating func rename(_ old: String, to new: String, producedBy k: Int) {
        for i in graph.nodes.indices {
            graph.nodes[i].inputs = graph.nodes[i].inputs.map { $0 == old ? new : $0 }
        }
        graph.nodes[k].outputs = graph.nodes[k].outputs.map { $0 == old ? new : $0 }
        for i in graph.valueInfo.indices where graph.valueInfo[i].name == old { graph.valueInfo[i].name = new }
        producer[old] = nil
        producer[new] = k
        aliases[old] = new
        valueNames.insert(new)
    }
}

import ETCore

/// One node of the optimised graph.
struct GraphNode {
    var name: String
    var opType: String
    var inputs: [String]
    var outputs: [String]
    var op: Operator
}

/// A loaded, checked and optimised ONNX model.
///
/// Loading reads the protobuf, turns `Constant` nodes into constants, checks every op and the
/// opset (errors name the file, node and op), sorts the graph, folds BatchNormalization into
/// convolutions, recognises spelled-out hard-swish/hard-sigmoid, fuses activations into the
/// preceding Conv/Gemm/MatMul, and packs convolution weights once.
///
/// Thread-safety: immutable after loading. Share one `ONNXModel` between any number of
/// `ExecutionPlan`s (one per tracker / thread); plans are not thread-safe themselves.
public final class ONNXModel: @unchecked Sendable {
    /// The file the model came from (used in error messages).
    public let path: String
    public let irVersion: Int64
    public let producer: String
    /// Version of the default (ai.onnx) opset.
    public let opset: Int
    /// `metadata_props` of the file.
    public let metadata: [String: String]
    /// Graph inputs that are not initializers, as declared (the engine does not trust the dims).
    public let inputs: [ONNXValueInfo]
    public let outputs: [ONNXValueInfo]

    var nodes: [GraphNode]
    var constants: [String: ConstantValue]
    /// Convolutions with constant weights and explicit pads, prepared at load (node index → kernel).
    var preparedConvs: [Int: Conv2D] = [:]
    /// Constant right operands of Gemm/MatMul (weights), packed at load (node index → op(B), K×N).
    var preparedRightOperands: [Int: PackedMatrix] = [:]

    public var inputNames: [String] { inputs.map(\.name) }
    public var outputNames: [String] { outputs.map(\.name) }

    /// Number of nodes after optimisation, by op name (for tests and `etrack` diagnostics).
    public var opCounts: [String: Int] {
        var c: [String: Int] = [:]
        for n in nodes { c[n.op.name, default: 0] += 1 }
        return c
    }

    /// Loads a model from a file.
    /// - Throws: `ONNXError` naming the file (and node/op where relevant) when the file is missing,
    ///   truncated, corrupt, uses an unsupported opset or op, or is inconsistent.
    public convenience init(path: String) throws {
        let file = try MappedFile(path: path)
        try self.init(file: file)
    }

    /// Loads a model from bytes in memory; `name` is used in error messages.
    public convenience init(data: [UInt8], name: String = "<memory>") throws {
        try self.init(file: MappedFile(name: name, data: data))
    }

    init(file: MappedFile) throws {
        path = file.path
        let proto: ONNXModelProto
        do {
            proto = try ModelDecoder.decodeModel(file: file)
        } catch let e as WireReader.WireError {
            throw ONNXError("\(file.path): not a valid ONNX file: \(e) (corrupt or truncated?)")
        }
        irVersion = proto.irVersion
        producer = proto.producerName + (proto.producerVersion.isEmpty ? "" : " " + proto.producerVersion)
        metadata = proto.metadata
        func fail(_ why: String) -> ONNXError { ONNXError("\(file.path): \(why)") }

        // Ops we do not run come first, all of them, named with their domain and the opset the
        // model imports for it (a model of only foreign ops may import no ai.onnx opset at all).
        var unsupported: [String] = []
        for (i, n) in proto.graph.nodes.enumerated() {
            let name = n.name.isEmpty ? "#\(i)" : n.name
            let isDefault = n.domain.isEmpty || n.domain == "ai.onnx"
            guard !isDefault || (n.opType != "Constant" && OperatorCatalog.support(n.opType) == nil) else { continue }
            let version = (proto.opsets[n.domain] ?? (isDefault ? proto.opsets["ai.onnx"] : nil)).map { "opset \($0)" } ?? "no opset imported"
            unsupported.append("\(n.opType) (domain \(isDefault ? "ai.onnx" : "'\(n.domain)'"), \(version); node '\(name)')")
        }
        if !unsupported.isEmpty {
            throw fail("unsupported ops: \(unsupported.joined(separator: ", ")). Supported ops: \(OperatorCatalog.names.joined(separator: ", "))")
        }
        guard let opsetVersion = proto.opsets[""] ?? proto.opsets["ai.onnx"] else {
            throw fail("the model imports no ai.onnx opset")
        }
        guard (Int64(OperatorCatalog.oldestOpset)...Int64(OperatorCatalog.newestOpset)).contains(opsetVersion) else {
            throw fail("opset \(opsetVersion) is not supported (\(OperatorCatalog.oldestOpset) to \(OperatorCatalog.newestOpset) are)")
        }
        opset = Int(opsetVersion)
        // IR 14 is onnx 1.23.2's (onnx.IR_VERSION); IR 12-14 add element types and function features.
        guard proto.irVersion >= 3 && proto.irVersion <= 14 else {
            throw fail("IR version \(proto.irVersion) is not supported (3 to 14 are)")
        }
        let g = proto.graph
        guard !g.nodes.isEmpty else { throw fail("the graph has no nodes") }

        // Constants: initializers, then Constant nodes.
        var consts: [String: ConstantValue] = [:]
        for t in g.initializers {
            do { consts[t.name] = try ConstantValue(t) } catch let e as ONNXError { throw fail(e.message) }
        }
        let initializerNames = Set(g.initializers.map(\.name))
        inputs = g.inputs.filter { !initializerNames.contains($0.name) }
        outputs = g.outputs
        guard !outputs.isEmpty else { throw fail("the graph declares no outputs") }
        for v in inputs + outputs {
            if let kind = v.nonTensorKind { throw fail("'\(v.name)' is a \(kind) value; the engine runs tensors only") }
        }

        // Parse every node (all are ops we run: checked above).
        var parsed: [GraphNode] = []
        for (i, n) in g.nodes.enumerated() {
            let name = n.name.isEmpty ? "#\(i)" : n.name
            if n.opType == "Constant" {
                guard n.outputs.count == 1 else { throw fail("node '\(name)' (Constant): expects one output") }
                consts[n.outputs[0]] = try Self.constantNodeValue(n, name: name, path: file.path)
                continue
            }
            var named = n
            named.name = name
            do {
                let op = try OperatorParser(opset: opset, constants: consts).parse(named)
                parsed.append(GraphNode(name: name, opType: n.opType, inputs: n.inputs, outputs: n.outputs, op: op))
            } catch let e as ONNXError {
                throw fail(e.message)
            }
        }
        constants = consts
        nodes = try Self.topologicallySorted(parsed, available: Set(inputs.map(\.name)).union(consts.keys), path: file.path)
        let produced = Set(nodes.flatMap(\.outputs)).union(consts.keys).union(inputs.map(\.name))
        for o in outputs where !produced.contains(o.name) {
            throw fail("graph output '\(o.name)' is not produced by any node")
        }
        try GraphOptimizer.optimize(self)
        try prepareConvolutions()
    }

    private static func constantNodeValue(_ n: ONNXNodeProto, name: String, path: String) throws -> ConstantValue {
        func fail(_ why: String) -> ONNXError { ONNXError("\(path): node '\(name)' (Constant): \(why)") }
        guard n.attributes.count == 1, let (key, attr) = n.attributes.first else {
            throw fail(n.attributes.isEmpty ? "has no value" : "has \(n.attributes.count) value attributes (\(n.attributes.keys.sorted().joined(separator: ", "))); exactly one is allowed")
        }
        do {
            switch (key, attr) {
            case let ("value", .tensor(t)): return try ConstantValue(t)
            case let ("value_float", .float(f)): return ConstantValue(shape: [], floats: [f])
            case let ("value_floats", .floats(f)): return ConstantValue(shape: [f.count], floats: f)
            case let ("value_int", .int(i)): return ConstantValue(shape: [], ints: [i])
            case let ("value_ints", .ints(i)): return ConstantValue(shape: [i.count], ints: i)
            default: throw fail("value attribute '\(key)' is not supported")
            }
        } catch let e as ONNXError where !e.message.hasPrefix(path) {
            throw fail(e.message)
        }
    }

    /// Kahn's algorithm; keeps the file order where it is already valid. Fails on a missing input or a cycle.
    private static func topologicallySorted(_ nodes: [GraphNode], available: Set<String>, path: String) throws -> [GraphNode] {
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() { for o in n.outputs where !o.isEmpty { producer[o] = i } }
        var indegree = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, n) in nodes.enumerated() {
            for inp in n.inputs where !inp.isEmpty && !available.contains(inp) {
                guard let p = producer[inp] else {
                    throw ONNXError("\(path): node '\(n.name)' (\(n.opType)) reads '\(inp)', which nothing produces")
                }
                indegree[i] += 1
                consumers[p].append(i)
            }
        }
        var ready = (0..<nodes.count).filter { indegree[$0] == 0 }.reversed().map { $0 }
        var order: [GraphNode] = []
        while let i = ready.popLast() {
            order.append(nodes[i])
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.append(c); ready.sort(by: >) }
            }
        }
        guard order.count == nodes.count else { throw ONNXError("\(path): the graph has a cycle") }
        return order
    }

    /// Packs weights of convolutions whose weights are constant and pads explicit, and the
    /// constant 2-D right operands of Gemm and MatMul.
    private func prepareConvolutions() throws {
        for (i, n) in nodes.enumerated() {
            guard n.inputs.count > 1, let b = constants[n.inputs[1]], let bf = b.floats, b.shape.count == 2 else { continue }
            switch n.op {
            case let .gemm(_, _, _, transB, _):
                let (k, nn) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
                preparedRightOperands[i] = PackedMatrix.packing(side: .right, rows: k, cols: nn, bf, transposed: transB)
            case .matMul:
                preparedRightOperands[i] = PackedMatrix.packing(side: .right, rows: b.shape[0], cols: b.shape[1], bf)
            default: break
            }
        }
        for (i, n) in nodes.enumerated() {
            guard case let .conv(attrs, activation) = n.op, attrs.autoPad == "NOTSET",
                  let w = constants[n.inputs[1]], let wf = w.floats else { continue }
            let bias: [Float]? = n.inputs.count > 2 && !n.inputs[2].isEmpty ? constants[n.inputs[2]]?.floats : nil
            if n.inputs.count > 2 && !n.inputs[2].isEmpty && bias == nil { continue }  // runtime bias: dynamic path
            let p = try convParameters(node: n, attrs: attrs, weightShape: w.shape, inH: nil, inW: nil)
            if let bias, bias.count != p.outChannels {
                throw ONNXError("\(path): node '\(n.name)' (Conv): bias has \(bias.count) values, expected \(p.outChannels)")
            }
            preparedConvs[i] = Conv2D(p, weight: wf, bias: bias, activation: activation)
        }
    }

    /// Convolution geometry from attributes and the weight shape (OIHW). Input size is needed only for auto_pad.
    func convParameters(node n: GraphNode, attrs: ConvAttributes, weightShape: [Int], inH: Int?, inW: Int?) throws -> Conv2DParameters {
        func fail(_ why: String) -> ONNXError { ONNXError("\(path): node '\(n.name)' (Conv): \(why)") }
        guard weightShape.count == 4 || weightShape.count == 3 else {
            throw fail("only 1-D and 2-D convolutions are supported (weight shape \(weightShape))")
        }
        if let r = attrs.spatialRank, r != weightShape.count - 2 {
            throw fail("the attributes describe a \(r)-D convolution, the weight \(weightShape) a \(weightShape.count - 2)-D one")
        }
        let w = weightShape.count == 3 ? [weightShape[0], weightShape[1], 1, weightShape[2]] : weightShape
        let (o, ig, kh, kw) = (w[0], w[1], w[2], w[3])
        if let k = attrs.kernel, k != [kh, kw] { throw fail("kernel_shape \(k) disagrees with the weight \(weightShape)") }
        guard o % attrs.group == 0 else { throw fail("\(o) output channels are not divisible by group \(attrs.group)") }
        var p = Conv2DParameters(inChannels: ig * attrs.group, outChannels: o, kernelH: kh, kernelW: kw,
                                 strideH: attrs.strides[0], strideW: attrs.strides[1],
                                 padTop: attrs.pads[0], padLeft: attrs.pads[1], padBottom: attrs.pads[2], padRight: attrs.pads[3],
                                 dilationH: attrs.dilations[0], dilationW: attrs.dilations[1], groups: attrs.group)
        guard p.strideH > 0, p.strideW > 0, p.dilationH > 0, p.dilationW > 0, attrs.pads.allSatisfy({ $0 >= 0 }) else {
            throw fail("strides and dilations must be positive and pads non-negative")
        }
        if attrs.autoPad != "NOTSET", let inH, let inW {
            func same(_ size: Int, _ s: Int, _ k: Int, _ d: Int) -> (Int, Int) {
                let out = (size + s - 1) / s
                let total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
                return attrs.autoPad == "SAME_LOWER" ? ((total + 1) / 2, total / 2) : (total / 2, (total + 1) / 2)
            }
            if attrs.autoPad == "VALID" {
                p.padTop = 0; p.padLeft = 0; p.padBottom = 0; p.padRight = 0
            } else {
                (p.padTop, p.padBottom) = same(inH, p.strideH, kh, p.dilationH)
                (p.padLeft, p.padRight) = same(inW, p.strideW, kw, p.dilationW)
            }
        }
        return p
    }
}

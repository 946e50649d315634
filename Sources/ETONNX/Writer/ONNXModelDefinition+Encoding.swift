import ETCore
import Foundation

/// Encoding of a model definition to the protobuf bytes of an `.onnx` file.
///
/// Fields are written in field-number order and repeated scalars unpacked, the canonical form
/// that `onnx.load(...).SerializeToString()` reproduces byte for byte (the writer tests check
/// this). Field numbers (onnx.proto):
///
/// | message | fields written |
/// |---|---|
/// | ModelProto | ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7, opset_import 8, metadata_props 14 |
/// | OperatorSetIdProto | domain 1, version 2 |
/// | StringStringEntryProto | key 1, value 2 |
/// | GraphProto | node 1, name 2, initializer 5, input 11, output 12, value_info 13 |
/// | NodeProto | input 1, output 2, name 3, op_type 4, attribute 5, domain 7 |
/// | AttributeProto | name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20 |
/// | TensorProto | dims 1, data_type 2, name 8, raw_data 9 |
/// | ValueInfoProto | name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1 → dim_value 1 / dim_param 2 |
extension ONNXModelDefinition {
    /// The model as `.onnx` file bytes.
    /// - Throws: `ONNXError` from `validate()` when the graph is inconsistent.
    public func serialized() throws -> [UInt8] {
        try validate()
        var w = WireWriter(reservingCapacity: graph.initializers.reduce(4096) { $0 + $1.elementCount * 8 + 64 })
        w.int64(1, irVersion)
        if !producerName.isEmpty { w.string(2, producerName) }
        if !producerVersion.isEmpty { w.string(3, producerVersion) }
        if !docString.isEmpty { w.string(6, docString) }
        w.message(7) { Self.encode(graph, into: &$0) }
        for o in opsetImports {
            w.message(8) { m in
                m.string(1, o.domain)
                m.int64(2, o.version)
            }
        }
        for (k, v) in metadata {
            w.message(14) { m in
                m.string(1, k)
                m.string(2, v)
            }
        }
        return w.bytes
    }

    /// Writes the model to `path` atomically (a temporary file in the same folder, then rename),
    /// so a reader never sees half a model.
    /// - Throws: `ONNXError` naming the file when the graph is inconsistent or the file cannot be written.
    public func write(to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try serialized() } catch let e as ONNXError { throw ONNXError("\(path): \(e.message)") }
        do { try AtomicFile.write(bytes, to: path) } catch {
            throw ONNXError("\(path): cannot write the ONNX file (\(error))")
        }
    }

    /// Checks what a runtime would reject: a missing ai.onnx opset, values defined twice, node
    /// inputs that nothing before them produces (nodes must be in topological order), graph
    /// outputs nothing produces, empty names and initializers whose data does not fill their dims.
    /// - Throws: `ONNXError` naming the graph, node and value.
    public func validate() throws {
        func fail(_ why: String) -> ONNXError { ONNXError("graph '\(graph.name)': \(why)") }
        guard opset != nil else { throw fail("the model imports no ai.onnx opset") }
        var defined = Set<String>()
        func define(_ name: String, _ what: String) throws {
            guard !name.isEmpty else { throw fail("\(what) has an empty name") }
            guard defined.insert(name).inserted else { throw fail("value '\(name)' is defined twice (again by \(what))") }
        }
        for i in graph.inputs { try define(i.name, "graph input '\(i.name)'") }
        for t in graph.initializers {
            try define(t.name, "initializer '\(t.name)'")
            try Self.check(t, fail)
        }
        for (k, n) in graph.nodes.enumerated() {
            let label = "node '\(n.name.isEmpty ? "#\(k)" : n.name)' (\(n.opType))"
            guard !n.opType.isEmpty else { throw fail("\(label) has no op type") }
            for i in n.inputs where !i.isEmpty && !defined.contains(i) {
                throw fail("\(label) reads '\(i)', which no graph input, initializer or earlier node produces")
            }
            guard !n.outputs.isEmpty else { throw fail("\(label) has no outputs") }
            for o in n.outputs where !o.isEmpty { try define(o, label) }
            for (name, a) in n.attributes {
                guard !name.isEmpty else { throw fail("\(label) has an attribute with an empty name") }
                if case let .tensor(t) = a { try Self.check(t, fail) }
            }
        }
        guard !graph.outputs.isEmpty else { throw fail("the graph declares no outputs") }
        for o in graph.outputs where !defined.contains(o.name) {
            throw fail("graph output '\(o.name)' is not produced by any node")
        }
    }

    private static func check(_ t: ONNXTensorValue, _ fail: (String) -> ONNXError) throws {
        guard t.dims.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(t.name)' has a negative dimension \(t.dims)") }
        let n = t.dims.reduce(1, *)
        guard n == t.elementCount else {
            throw fail("tensor '\(t.name)' holds \(t.elementCount) values but its dims \(t.dims) need \(n)")
        }
    }

    static func encode(_ g: ONNXGraphDefinition, into w: inout WireWriter) {
        for n in g.nodes { w.message(1) { encode(n, into: &$0) } }
        if !g.name.isEmpty { w.string(2, g.name) }
        for t in g.initializers { w.message(5) { encode(t, into: &$0) } }
        for v in g.inputs { w.message(11) { encode(v, into: &$0) } }
        for v in g.outputs { w.message(12) { encode(v, into: &$0) } }
        for v in g.valueInfo { w.message(13) { encode(v, into: &$0) } }
    }

    static func encode(_ n: ONNXNodeDefinition, into w: inout WireWriter) {
        for i in n.inputs { w.string(1, i) }
        for o in n.outputs { w.string(2, o) }
        if !n.name.isEmpty { w.string(3, n.name) }
        w.string(4, n.opType)
        for (name, value) in n.attributes { w.message(5) { encode(name, value, into: &$0) } }
        if !n.domain.isEmpty { w.string(7, n.domain) }
    }

    static func encode(_ name: String, _ value: ONNXAttributeValue, into w: inout WireWriter) {
        w.string(1, name)
        let type: Int64
        switch value {
        case let .float(f): w.float(2, f); type = 1
        case let .int(i): w.int64(3, i); type = 2
        case let .string(s): w.string(4, s); type = 3
        case let .tensor(t): w.message(5) { encode(t, into: &$0) }; type = 4
        case let .floats(v): for f in v { w.float(7, f) }; type = 6
        case let .ints(v): for i in v { w.int64(8, i) }; type = 7
        case let .strings(v): for s in v { w.string(9, s) }; type = 8
        }
        w.int64(20, type)
    }

    static func encode(_ t: ONNXTensorValue, into w: inout WireWriter) {
        for d in t.dims { w.int64(1, Int64(d)) }
        w.int64(2, t.dataType.rawValue)
        if !t.name.isEmpty { w.string(8, t.name) }
        switch t.storage {
        case let .float32(v):
            #if _endian(little)
            v.withUnsafeBytes { w.bytesField(9, $0) }
            #else
            v.map { $0.bitPattern.littleEndian }.withUnsafeBytes { w.bytesField(9, $0) }
            #endif
        case let .int64(v):
            #if _endian(little)
            v.withUnsafeBytes { w.bytesField(9, $0) }
            #else
            v.map { $0.littleEndian }.withUnsafeBytes { w.bytesField(9, $0) }
            #endif
        }
    }

    static func encode(_ v: ONNXValueDeclaration, into w: inout WireWriter) {
        w.string(1, v.name)
        w.message(2) { type in
            type.message(1) { tensor in
                tensor.int64(1, v.elementType.rawValue)
                if let shape = v.shape {
                    tensor.message(2) { s in
                        for d in shape {
                            s.message(1) { dim in
                                switch d {
                                case let .value(n): dim.int64(1, Int64(n))
                                case let .symbol(name): dim.string(2, name)
                                case .unknown: break
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

import ETCore
@testable import ETONNX
import XCTest

/// Unit tests of the wire encoder, the model encoding (read back by our decoder), validation
/// errors and the builder's naming.
final class WriterEncodingTests: XCTestCase {
    func testVarintBytes() {
        let cases: [(UInt64, [UInt8])] = [
            (0, [0]), (1, [1]), (127, [0x7f]), (128, [0x80, 0x01]), (300, [0xac, 0x02]),
            (16383, [0xff, 0x7f]), (16384, [0x80, 0x80, 0x01]),
            (UInt64.max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ]
        for (v, want) in cases {
            var w = WireWriter()
            w.varint(v)
            XCTAssertEqual(w.bytes, want, "varint \(v)")
        }
        var w = WireWriter()
        w.int64(3, -1)
        XCTAssertEqual(w.bytes, [0x18] + [UInt8](repeating: 0xff, count: 9) + [0x01], "int64 -1 is a 10-byte varint")
        w = WireWriter()
        w.float(2, 1.0)
        XCTAssertEqual(w.bytes, [0x15, 0x00, 0x00, 0x80, 0x3f], "float 1.0 is fixed32 little-endian")
        w = WireWriter()
        w.string(4, "Conv")
        XCTAssertEqual(w.bytes, [0x22, 0x04] + Array("Conv".utf8))
    }

    func testWireRoundTripThroughReader() throws {
        var r = TestRandom(3)
        var values: [UInt64] = [0, 1, 127, 128, UInt64.max, 1 << 63]
        for _ in 0..<200 { values.append(UInt64(bitPattern: Int64(r.next() * 1e6)) &* 2654435761 >> UInt64(values.count % 60)) }
        var w = WireWriter()
        for (k, v) in values.enumerated() {
            w.key(k % 3 == 0 ? 536_870_911 : k + 1, .varint)   // largest field number too
            w.varint(v)
        }
        w.message(9) { $0.float(1, -2.5); $0.string(2, "ünï") }
        try w.bytes.withUnsafeBytes { raw in
            var rd = WireReader(raw)
            for (k, v) in values.enumerated() {
                let key = try XCTUnwrap(try rd.readKey())
                XCTAssertEqual(key.field, k % 3 == 0 ? 536_870_911 : k + 1)
                XCTAssertEqual(try rd.readVarint(), v)
            }
            let key = try XCTUnwrap(try rd.readKey())
            XCTAssertEqual(key.field, 9)
            var sub = try rd.readMessage()
            _ = try sub.readKey()
            XCTAssertEqual(Float(bitPattern: try sub.readFixed32()), -2.5)
            _ = try sub.readKey()
            XCTAssertEqual(try sub.readString(), "ünï")
            XCTAssertTrue(rd.isAtEnd)
        }
    }

    /// Every attribute kind, initializers, opsets and metadata, decoded by our reader.
    func testEveryFieldReadBackByDecoder() throws {
        var g = ONNXGraphDefinition(name: "all_fields")
        g.inputs = [ONNXValueDeclaration(name: "x", shape: [.value(2), .symbol("W"), .unknown])]
        g.initializers = [ONNXTensorValue(name: "w", dims: [2, 3], floats: [1, -2, 3.5, 0, .greatestFiniteMagnitude, -1e-30]),
                          ONNXTensorValue(name: "s", dims: [3], int64s: [-1, 0, Int64.max])]
        let t = ONNXTensorValue(name: "", dims: [], floats: [0.25])
        g.nodes = [ONNXNodeDefinition(opType: "Custom", name: "n0", domain: "com.example", inputs: ["x", "", "w"], outputs: ["y", "z"],
                                      attributes: [("f", .float(-0.5)), ("i", .int(-7)), ("s", .string("SAME_UPPER")), ("t", .tensor(t)),
                                                   ("fs", .floats([1, 2.5])), ("is", .ints([-1, 3, 1 << 40])), ("ss", .strings(["a", "", "ü"])),
                                                   ("empty", .ints([]))])]
        g.outputs = [ONNXValueDeclaration(name: "y", dims: [2, 3])]
        var m = ONNXModelDefinition(graph: g, opset: 17, producerVersion: "1.2", metadata: [("k1", "v1"), ("k2", "")])
        m.opsetImports.append((domain: "com.example", version: 1))
        let bytes = try m.serialized()
        let proto = try ModelDecoder.decodeModel(file: MappedFile(name: "mem", data: bytes))
        XCTAssertEqual(proto.irVersion, 8)
        XCTAssertEqual(proto.opsets, ["": 17, "com.example": 1])
        XCTAssertEqual(proto.producerName, "EfficientTrack")
        XCTAssertEqual(proto.producerVersion, "1.2")
        XCTAssertEqual(proto.metadata, ["k1": "v1", "k2": ""])
        XCTAssertEqual(proto.graph.name, "all_fields")
        XCTAssertEqual(proto.graph.inputs.first?.shape, [.value(2), .symbol("W"), .unknown])
        XCTAssertEqual(proto.graph.outputs.first?.shape, [.value(2), .value(3)])
        XCTAssertEqual(proto.graph.initializers.map(\.name), ["w", "s"])
        XCTAssertEqual(try proto.graph.initializers[0].floats(), [1, -2, 3.5, 0, .greatestFiniteMagnitude, -1e-30])
        XCTAssertEqual(proto.graph.initializers[0].dims, [2, 3])
        XCTAssertEqual(try proto.graph.initializers[1].int64s(), [-1, 0, Int64.max])
        let n = try XCTUnwrap(proto.graph.nodes.first)
        XCTAssertEqual(n.name, "n0"); XCTAssertEqual(n.opType, "Custom"); XCTAssertEqual(n.domain, "com.example")
        XCTAssertEqual(n.inputs, ["x", "", "w"]); XCTAssertEqual(n.outputs, ["y", "z"])
        func attr(_ k: String) -> ONNXAttribute? { n.attributes[k] }
        guard case .float(-0.5)? = attr("f"), case .int(-7)? = attr("i"), case .string("SAME_UPPER")? = attr("s"),
              case .floats([1, 2.5])? = attr("fs"), case .ints([-1, 3, 1 << 40])? = attr("is"),
              case .strings(["a", "", "ü"])? = attr("ss"), case .ints([])? = attr("empty"),
              case let .tensor(tp)? = attr("t") else {
            return XCTFail("attributes read back as \(n.attributes)")
        }
        XCTAssertEqual(try tp.floats(), [0.25])
        XCTAssertEqual(tp.dims, [])
    }

    func testValidationNamesTheProblem() {
        func message(_ edit: (inout ONNXGraphDefinition) -> Void) -> String {
            var g = ONNXGraphDefinition(name: "g")
            g.inputs = [ONNXValueDeclaration(name: "x", dims: [1])]
            g.nodes = [ONNXNodeDefinition(opType: "Relu", name: "r", inputs: ["x"], outputs: ["y"])]
            g.outputs = [ONNXValueDeclaration(name: "y", dims: [1])]
            edit(&g)
            do { _ = try ONNXModelDefinition(graph: g).serialized(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { _ in }, "no error")
        XCTAssertEqual(message { $0.nodes[0].inputs = ["q"] },
                       "graph 'g': node 'r' (Relu) reads 'q', which no graph input, initializer or earlier node produces")
        XCTAssertTrue(message { $0.nodes.append($0.nodes[0]) }.contains("value 'y' is defined twice"))
        XCTAssertTrue(message { $0.initializers = [ONNXTensorValue(name: "x", dims: [1], floats: [0])] }.contains("value 'x' is defined twice"))
        XCTAssertEqual(message { $0.outputs[0].name = "nope" }, "graph 'g': graph output 'nope' is not produced by any node")
        XCTAssertEqual(message { $0.outputs = [] }, "graph 'g': the graph declares no outputs")
        XCTAssertTrue(message { $0.nodes.insert(ONNXNodeDefinition(opType: "Neg", name: "early", inputs: ["y"], outputs: ["z"]), at: 0) }
            .contains("node 'early' (Neg) reads 'y'"), "nodes out of topological order")
        XCTAssertTrue(message {
            var t = ONNXTensorValue(name: "w", dims: [2], floats: [1, 2])
            t.dims = [3]
            $0.initializers = [t]
        }.contains("tensor 'w' holds 2 values but its dims [3] need 3"))
        XCTAssertTrue(message { $0.nodes[0].outputs = [] }.contains("node 'r' (Relu) has no outputs"))
        var m = ONNXModelDefinition(graph: ONNXGraphDefinition(name: "g"))
        m.opsetImports = []
        XCTAssertThrowsError(try m.validate()) { XCTAssertTrue("\($0)".contains("imports no ai.onnx opset")) }
    }

    func testWriteErrorsNameTheFileAndWritesAtomically() throws {
        var g = ONNXGraphBuilder(name: "tiny")
        g.output(g.relu(g.input("x", dims: [2])), dims: [2])
        let m = g.model()
        XCTAssertThrowsError(try m.write(to: "/nonexistent-dir/m.onnx")) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent-dir/m.onnx: cannot write"), "\($0)")
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-writer-tiny-\(getpid()).onnx").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try m.write(to: path)
        let model = try ONNXModel(path: path)
        XCTAssertEqual(model.outputNames, ["Relu_0_out"])
        var bad = g
        bad.output("missing", dims: [1])
        XCTAssertThrowsError(try bad.model().write(to: path)) {
            XCTAssertTrue("\($0)".hasPrefix("\(path): graph 'tiny': graph output 'missing'"), "\($0)")
        }
        XCTAssertNoThrow(try ONNXModel(path: path), "a failed write leaves the old file intact")
    }

    func testBuilderNamingAndConveniences() throws {
        var g = ONNXGraphBuilder(name: "names")
        let x = g.input("x", dims: [1, 2, 4, 4])
        let w = g.initializer("w", Tensor(shape: [2, 2, 3, 3], repeating: 0.1))
        let a = g.conv(x, weight: w, pads: [1, 1, 1, 1], name: "conv")
        let b = g.conv(a, weight: w, pads: [1, 1, 1, 1], name: "conv")       // same node name → made unique
        XCTAssertEqual(a, "conv_out")
        XCTAssertEqual(b, "conv_1_out")
        XCTAssertEqual(g.scalar(0.5), g.scalar(0.5), "scalars are shared")
        XCTAssertNotEqual(g.scalar(0.5), g.scalar(-0.5))
        XCTAssertEqual(g.int64s([1, -1]), g.int64s([1, -1]))
        let r = g.relu(b)
        let later = g.add(r, r)                                               // uses r after it is renamed below
        g.output(r, as: "output1", dims: [1, 2, 4, 4])
        let after = g.mul(r, r)                                               // old name still accepted
        g.output(later, dims: [1, 2, 4, 4])
        g.output(after, dims: [1, 2, 4, 4])
        g.output(x, as: "x_again", dims: [1, 2, 4, 4])                        // an input → Identity
        g.output("output1", as: "output1_copy", dims: [1, 2, 4, 4])           // already an output → Identity
        let convs = g.graph.nodes.filter { $0.opType == "Conv" }
        XCTAssertEqual(convs.map(\.name), ["conv", "conv_1"])
        guard case .ints([3, 3])? = convs[0].attributes.first(where: { $0.name == "kernel_shape" })?.value else {
            return XCTFail("kernel_shape not taken from the weight initializer")
        }
        XCTAssertEqual(g.graph.nodes.first { $0.opType == "Mul" }?.inputs, ["output1", "output1"])
        XCTAssertEqual(g.graph.nodes.first { $0.opType == "Add" }?.inputs, ["output1", "output1"])
        XCTAssertEqual(g.graph.nodes.filter { $0.opType == "Identity" }.map(\.outputs), [["x_again"], ["output1_copy"]])
        let model = try ONNXModel(data: try g.model().serialized(), name: "names")
        let plan = try ExecutionPlan(model: model, inputShapes: ["x": [1, 2, 4, 4]])
        let out = try plan.run(["x": Tensor(shape: [1, 2, 4, 4], repeating: 1)])
        XCTAssertEqual(out["x_again"]?.data, [Float](repeating: 1, count: 32))
        XCTAssertEqual(out["output1"], out["output1_copy"])
    }

    func testGeluFormDependsOnOpset() {
        var g17 = ONNXGraphBuilder(name: "g", opset: 17)
        _ = g17.gelu(g17.input("x", dims: [2]), name: "act")
        XCTAssertEqual(g17.graph.nodes.map(\.opType), ["Div", "Erf", "Add", "Mul", "Mul"])
        XCTAssertEqual(g17.graph.nodes.map(\.name), ["act/Div", "act/Erf", "act/Add", "act/Mul", "act/Mul_1"])
        var g20 = ONNXGraphBuilder(name: "g", opset: 20)
        _ = g20.gelu(g20.input("x", dims: [2]))
        XCTAssertEqual(g20.graph.nodes.map(\.opType), ["Gelu"])
        XCTAssertEqual(g20.model().irVersion, 9)
        XCTAssertEqual(ONNXModelDefinition.minimumIRVersion(opset: 22), 10)
    }
}

import ETCore
import ETNN
@testable import ETONNX
import Foundation
import XCTest

/// What the ONNX node tests exposed, checked one case at a time in Swift: variadic Max/Min/Sum/
/// Mean, LayerNormalization's optional outputs, batch N in Conv and BatchNormalization (and its
/// training mode), Gelu 'tanh', 1-D convolutions, integer inputs as plan-time values, empty
/// tensors, newer opsets, and an error naming every attribute or value we do not handle.
/// (The whole suite runs in scripts/onnx_conformance/node_suite.py, written for onnx 1.23.2.)
final class ConformanceTests: XCTestCase {
    typealias Node = ONNXNodeDefinition

    /// A one-graph model from nodes, float inputs of fixed shapes and declared outputs.
    func model(_ nodes: [Node], inputs: [(String, [Int])], outputs: [String], opset: Int = 17,
               initializers: [ONNXTensorValue] = [], intInputs: [(String, [Int])] = [],
               outputTypes: [String: ONNXDataType] = [:]) throws -> ONNXModel {
        var g = ONNXGraphDefinition(name: "case")
        g.nodes = nodes
        g.initializers = initializers
        g.inputs = inputs.map { ONNXValueDeclaration(name: $0.0, dims: $0.1) }
            + intInputs.map { ONNXValueDeclaration(name: $0.0, elementType: .int64, dims: $0.1) }
        g.outputs = outputs.map { ONNXValueDeclaration(name: $0, elementType: outputTypes[$0] ?? .float, shape: nil) }
        let def = ONNXModelDefinition(graph: g, opset: opset)
        return try ONNXModel(data: try def.serialized(), name: "case.onnx")
    }

    func values(_ n: Int, seed: Int = 1) -> [Float] {
        var rng = SeededGenerator(seed: UInt64(seed))
        return (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
    }

    func run(_ m: ONNXModel, _ inputs: [String: Tensor], ints: [String: ONNXTensorValue] = [:]) throws -> [String: Tensor] {
        let plan = try ExecutionPlan(model: m, inputShapes: inputs.mapValues(\.shape), inputValues: ints)
        return try plan.run(inputs)
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tol: Float = 1e-5, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for (x, y) in zip(a, b) where abs(x - y) > tol * max(1, abs(y)) {
            XCTFail("\(what): \(x) vs \(y)", file: file, line: line); return
        }
    }

    func expectError(_ make: () throws -> Void, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            try make()
            XCTFail("expected an error mentioning \(parts)", file: file, line: line)
        } catch {
            let message = "\(error)"
            for p in parts where !message.contains(p) { XCTFail("«\(message)» should mention «\(p)»", file: file, line: line) }
        }
    }

    // MARK: coverage

    func testVariadicMaxMinSumMean() throws {
        let a = values(6, seed: 1), b = values(3, seed: 2), c = values(6, seed: 3)
        for (op, f) in [("Max", { (x: Float, y: Float) in max(x, y) }), ("Min", { min($0, $1) }), ("Sum", { $0 + $1 }), ("Mean", { $0 + $1 })] {
            // Three inputs with broadcasting ([2,3], [3], [2,3]) and one input.
            let m3 = try model([Node(opType: op, inputs: ["a", "b", "c"], outputs: ["y"])], inputs: [("a", [2, 3]), ("b", [3]), ("c", [2, 3])], outputs: ["y"])
            let y = try run(m3, ["a": Tensor(shape: [2, 3], data: a), "b": Tensor(shape: [3], data: b), "c": Tensor(shape: [2, 3], data: c)])["y"]!
            let expected = (0..<6).map { i -> Float in let r = f(f(a[i], b[i % 3]), c[i]); return op == "Mean" ? r / 3 : r }
            assertClose(y.data, expected, 1e-6, "\(op) of 3 inputs")
            XCTAssertEqual(y.shape, [2, 3])
            let m1 = try model([Node(opType: op, inputs: ["a"], outputs: ["y"])], inputs: [("a", [2, 3])], outputs: ["y"])
            XCTAssertEqual(try run(m1, ["a": Tensor(shape: [2, 3], data: a)])["y"]!.data, a, "\(op) of 1 input")
        }
    }

    func testLayerNormalizationOptionalOutputs() throws {
        let x = values(24)
        let m = try model([Node(opType: "LayerNormalization", inputs: ["x", "g"], outputs: ["y", "mean", "inv"],
                                attributes: [("axis", .int(1)), ("epsilon", .float(1e-3))])],
                          inputs: [("x", [2, 3, 4]), ("g", [3, 4])], outputs: ["y", "mean", "inv"])
        let out = try run(m, ["x": Tensor(shape: [2, 3, 4], data: x), "g": Tensor(shape: [3, 4], data: [Float](repeating: 1, count: 12))])
        XCTAssertEqual(out["mean"]!.shape, [2, 1, 1])
        XCTAssertEqual(out["inv"]!.shape, [2, 1, 1])
        for r in 0..<2 {
            let row = x[(r * 12)..<((r + 1) * 12)].map(Double.init)
            let mu = row.reduce(0, +) / 12, v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 12
            assertClose([out["mean"]!.data[r]], [Float(mu)], 1e-6, "mean of row \(r)")
            assertClose([out["inv"]!.data[r]], [Float(1 / (v + 1e-3).squareRoot())], 1e-5, "1/σ of row \(r)")
            assertClose(Array(out["y"]!.data[(r * 12)..<((r + 1) * 12)]), row.map { Float(($0 - mu) / (v + 1e-3).squareRoot()) }, 1e-5, "y of row \(r)")
        }
    }

    /// A small network on batch 3 (Conv with folded BatchNormalization, a run-time
    /// BatchNormalization, HardSwish, a strided depthwise Conv, GlobalAveragePool, Flatten, Gemm,
    /// Softmax) gives each image what it gives alone. (NanoTrack's published files and our
    /// current exports hard-code batch 1 in Reshape targets, so they cannot be batched as they are.)
    func testBatchNEqualsImageByImage() throws {
        let w = ONNXTensorValue(name: "w", dims: [4, 2, 3, 3], floats: values(72, seed: 5))
        let bn = ["s", "b", "m", "v"].enumerated().map { i, n in
            ONNXTensorValue(name: n, dims: [4], floats: i == 3 ? values(4, seed: 9).map { abs($0) + 0.5 } : values(4, seed: 6 + i))
        }
        let dw = ONNXTensorValue(name: "dw", dims: [4, 1, 3, 3], floats: values(36, seed: 16))
        let fc = ONNXTensorValue(name: "fc", dims: [5, 4], floats: values(20, seed: 17)), fcb = ONNXTensorValue(name: "fcb", dims: [5], floats: values(5, seed: 18))
        let nodes = [Node(opType: "Conv", inputs: ["x", "w"], outputs: ["c"], attributes: [("pads", .ints([1, 1, 1, 1]))]),
                     Node(opType: "BatchNormalization", inputs: ["c", "s", "b", "m", "v"], outputs: ["y"]),
                     Node(opType: "BatchNormalization", inputs: ["y", "s2", "b2", "m2", "v2"], outputs: ["z0"]),
                     Node(opType: "HardSwish", inputs: ["z0"], outputs: ["z1"]),
                     Node(opType: "Conv", inputs: ["z1", "dw"], outputs: ["z"], attributes: [("group", .int(4)), ("strides", .ints([2, 2])), ("pads", .ints([1, 1, 1, 1]))]),
                     Node(opType: "GlobalAveragePool", inputs: ["z"], outputs: ["g"]),
                     Node(opType: "Flatten", inputs: ["g"], outputs: ["f"]),
                     Node(opType: "Gemm", inputs: ["f", "fc", "fcb"], outputs: ["logits"], attributes: [("transB", .int(1))]),
                     Node(opType: "Softmax", inputs: ["logits"], outputs: ["p"])]
        let m = try model(nodes, inputs: [("x", [3, 2, 5, 5]), ("s2", [4]), ("b2", [4]), ("m2", [4]), ("v2", [4])], outputs: ["z", "p"],
                          initializers: [w, dw, fc, fcb] + bn)
        let x = values(150, seed: 11)
        let params = ["s2": Tensor(shape: [4], data: values(4, seed: 12)), "b2": Tensor(shape: [4], data: values(4, seed: 13)),
                      "m2": Tensor(shape: [4], data: values(4, seed: 14)), "v2": Tensor(shape: [4], data: values(4, seed: 15).map { abs($0) + 0.1 })]
        let all = try run(m, params.merging(["x": Tensor(shape: [3, 2, 5, 5], data: x)]) { a, _ in a })
        XCTAssertEqual(all["z"]!.shape, [3, 4, 3, 3])
        XCTAssertEqual(all["p"]!.shape, [3, 5])
        for i in 0..<3 {
            let one = try run(m, params.merging(["x": Tensor(shape: [1, 2, 5, 5], data: Array(x[(i * 50)..<((i + 1) * 50)]))]) { a, _ in a })
            XCTAssertEqual(Array(all["z"]!.data[(i * 36)..<((i + 1) * 36)]), one["z"]!.data, "feature map of image \(i) of the batch")
            assertClose(Array(all["p"]!.data[(i * 5)..<((i + 1) * 5)]), one["p"]!.data, 1e-6, "class probabilities of image \(i)")
        }
    }

    func testBatchNormalizationTrainingMode() throws {
        let (n, c, hw) = (2, 3, 4)
        let x = values(n * c * hw, seed: 21), scale = values(c, seed: 22), bias = values(c, seed: 23)
        let mean = values(c, seed: 24), variance = values(c, seed: 25).map { abs($0) }
        let m = try model([Node(opType: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"], outputs: ["y", "rm", "rv"],
                                attributes: [("training_mode", .int(1)), ("momentum", .float(0.8)), ("epsilon", .float(1e-2))])],
                          inputs: [("x", [n, c, 2, 2]), ("s", [c]), ("b", [c]), ("m", [c]), ("v", [c])], outputs: ["y", "rm", "rv"], opset: 15)
        let out = try run(m, ["x": Tensor(shape: [n, c, 2, 2], data: x), "s": Tensor(shape: [c], data: scale), "b": Tensor(shape: [c], data: bias),
                              "m": Tensor(shape: [c], data: mean), "v": Tensor(shape: [c], data: variance)])
        for ch in 0..<c {
            let xs = (0..<n).flatMap { i in (0..<hw).map { Double(x[(i * c + ch) * hw + $0]) } }
            let mu = xs.reduce(0, +) / Double(xs.count), v = xs.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(xs.count)
            assertClose([out["rm"]!.data[ch]], [Float(Double(mean[ch]) * 0.8 + mu * 0.2)], 1e-5, "running mean \(ch)")
            assertClose([out["rv"]!.data[ch]], [Float(Double(variance[ch]) * 0.8 + v * 0.2)], 1e-5, "running variance \(ch)")
            let y0 = (Double(x[ch * hw]) - mu) / (v + 1e-2).squareRoot() * Double(scale[ch]) + Double(bias[ch])
            assertClose([out["y"]!.data[ch * hw]], [Float(y0)], 1e-5, "y of channel \(ch)")
        }
    }

    func testGeluTanh() throws {
        let x = values(16)
        let m = try model([Node(opType: "Gelu", inputs: ["x"], outputs: ["y"], attributes: [("approximate", .string("tanh"))])],
                          inputs: [("x", [16])], outputs: ["y"], opset: 20)
        let y = try run(m, ["x": Tensor(shape: [16], data: x)])["y"]!.data
        let k = (2 / Double.pi).squareRoot()
        assertClose(y, x.map { v in let d = Double(v); return Float(0.5 * d * (1 + tanh(k * (d + 0.044715 * d * d * d)))) }, 1e-6, "gelu tanh")
    }

    func testOneDimensionalConvolutionEqualsHeightOneConv2D() throws {
        let w = values(4 * 2 * 3, seed: 31), x = values(2 * 2 * 9, seed: 32)
        let m1 = try model([Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: [("pads", .ints([2, 1])), ("strides", .ints([2])), ("dilations", .ints([1]))])],
                           inputs: [("x", [2, 2, 9])], outputs: ["y"], initializers: [ONNXTensorValue(name: "w", dims: [4, 2, 3], floats: w)])
        let m2 = try model([Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: [("pads", .ints([0, 2, 0, 1])), ("strides", .ints([1, 2]))])],
                           inputs: [("x", [2, 2, 1, 9])], outputs: ["y"], initializers: [ONNXTensorValue(name: "w", dims: [4, 2, 1, 3], floats: w)])
        let y1 = try run(m1, ["x": Tensor(shape: [2, 2, 9], data: x)])["y"]!
        let y2 = try run(m2, ["x": Tensor(shape: [2, 2, 1, 9], data: x)])["y"]!
        XCTAssertEqual(y1.shape, [2, 4, 5])
        XCTAssertEqual(y1.data, y2.data)
    }

    /// Integer inputs are values of the plan; integer outputs come back as int64 data.
    func testIntegerInputsAreBoundAtPlanTime() throws {
        let m = try model([Node(opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"]),
                           Node(opType: "Shape", inputs: ["y"], outputs: ["s"]),
                           Node(opType: "Gather", inputs: ["x", "idx"], outputs: ["g"], attributes: [("axis", .int(1))])],
                          inputs: [("x", [2, 6])], outputs: ["y", "s", "g"], intInputs: [("shape", [3]), ("idx", [2])], outputTypes: ["s": .int64])
        let x = values(12)
        let plan = try ExecutionPlan(model: m, inputShapes: ["x": [2, 6]],
                                     inputValues: ["shape": ONNXTensorValue(dims: [3], int64s: [3, -1, 2]), "idx": ONNXTensorValue(dims: [2], int64s: [-1, 0])])
        let out = try plan.run(["x": Tensor(shape: [2, 6], data: x)])
        XCTAssertEqual(out["y"]!.shape, [3, 2, 2])
        XCTAssertEqual(plan.outputValue("s").storage, .int64([3, 2, 2]))
        XCTAssertEqual(out["g"]!.data, [x[5], x[0], x[11], x[6]])
        expectError({ _ = try ExecutionPlan(model: m, inputShapes: ["x": [2, 6]]) }, ["'shape'", "int64", "give its values"])
        expectError({ _ = try ExecutionPlan(model: m, inputShapes: ["x": [2, 6]], inputValues: ["x": ONNXTensorValue(dims: [2, 6], int64s: Array(repeating: 1, count: 12))]) },
                    ["'x'", "float32", "plan-time"])
    }

    /// Cast of plan-time values to every integer width and bool (the node suite's Cast tests all
    /// use types we do not hold, so the casts we do run are checked here, against NumPy's astype).
    func testCastOfPlanTimeValues() throws {
        let f = ONNXTensorValue(name: "f", dims: [5], floats: [-2.7, -0.5, 0, 1.9, 300.2])
        let types: [(ONNXDataType, [Int64])] = [(.int32, [-2, 0, 0, 1, 300]), (.uint8, [254, 0, 0, 1, 44]), (.int8, [-2, 0, 0, 1, 44]),
                                                (.bool, [1, 1, 0, 1, 1]), (.int64, [-2, 0, 0, 1, 300])]
        for (t, expected) in types {
            let m = try model([Node(opType: "Cast", inputs: ["f"], outputs: ["y"], attributes: [("to", .int(t.rawValue))])],
                              inputs: [("x", [1])], outputs: ["y"], initializers: [f], outputTypes: ["y": t])
            let plan = try ExecutionPlan(model: m, inputShapes: ["x": [1]])
            plan.run()
            XCTAssertEqual(plan.outputValue("y").storage, .int64(expected), "float32 → \(t)")
        }
        // A run-time float tensor has no integer form.
        let rt = try model([Node(opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: [("to", .int(7))])], inputs: [("x", [2])], outputs: ["y"],
                           outputTypes: ["y": .int64])
        expectError({ _ = try ExecutionPlan(model: rt, inputShapes: ["x": [2]]) }, ["run-time float32", "int64"])
        // Non-finite values cannot become integers.
        let nan = try model([Node(opType: "Cast", inputs: ["f"], outputs: ["y"], attributes: [("to", .int(6))])], inputs: [("x", [1])], outputs: ["y"],
                            initializers: [ONNXTensorValue(name: "f", dims: [1], floats: [.nan])], outputTypes: ["y": .int32])
        expectError({ _ = try ExecutionPlan(model: nan, inputShapes: ["x": [1]]) }, ["cannot cast nan"])
    }

    func testEmptyTensorsNeedNoStep() throws {
        let m = try model([Node(opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"], attributes: [("allowzero", .int(1))]),
                           Node(opType: "Relu", inputs: ["y"], outputs: ["z"])],
                          inputs: [("x", [0, 3, 4])], outputs: ["z"], initializers: [ONNXTensorValue(name: "shape", dims: [3], int64s: [3, 4, 0])])
        let z = try run(m, ["x": Tensor(shape: [0, 3, 4], data: [])])["z"]!
        XCTAssertEqual(z.shape, [3, 4, 0])
        XCTAssertTrue(z.data.isEmpty)
        let pool = try model([Node(opType: "GlobalAveragePool", inputs: ["x"], outputs: ["y"])], inputs: [("x", [1, 2, 0, 3])], outputs: ["y"])
        expectError({ _ = try ExecutionPlan(model: pool, inputShapes: ["x": [1, 2, 0, 3]]) }, ["no elements", "GlobalAveragePool"])
    }

    /// Opsets up to onnx 1.23.2's newest (28) load; ops that do not exist yet at a model's opset are refused.
    func testOpsetRange() throws {
        let flatten = [Node(opType: "Flatten", inputs: ["x"], outputs: ["y"])]
        XCTAssertEqual(try run(try model(flatten, inputs: [("x", [2, 3, 4])], outputs: ["y"], opset: 28), ["x": Tensor(shape: [2, 3, 4], data: values(24))])["y"]!.shape, [2, 12])
        expectError({ _ = try self.model(flatten, inputs: [("x", [2, 3])], outputs: ["y"], opset: 29) }, ["opset 29", "7 to 28"])
        expectError({ _ = try self.model([Node(opType: "Gelu", inputs: ["x"], outputs: ["y"])], inputs: [("x", [2])], outputs: ["y"], opset: 17) },
                    ["Gelu", "does not exist at opset 17", "20"])
    }

    // MARK: every attribute or value we do not handle is an error that names it

    func testRejectedAttributesAreNamed() throws {
        let x = [("x", [1, 2, 2, 2])]
        let bnInit = ["s", "b", "m", "v"].map { ONNXTensorValue(name: $0, dims: [2], floats: [1, 1]) }
        func bn(_ attrs: [(name: String, value: ONNXAttributeValue)], outputs: [String] = ["y"], opset: Int = 15) throws {
            _ = try model([Node(opType: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"], outputs: outputs, attributes: attrs)],
                          inputs: x, outputs: [outputs[0]], opset: opset, initializers: bnInit)
        }
        let cases: [(String, () throws -> Void, [String])] = [
            ("unknown attribute", { _ = try self.model([Node(opType: "Relu", inputs: ["x"], outputs: ["y"], attributes: [("alpha", .float(1))])], inputs: x, outputs: ["y"]) },
             ["Relu", "attribute 'alpha' is not handled"]),
            ("BatchNormalization training_mode=2", { try bn([("training_mode", .int(2))]) }, ["training_mode=2"]),
            ("BatchNormalization spatial=0", { try bn([("spatial", .int(0))], opset: 7) }, ["spatial=0"]),
            ("BatchNormalization outputs before opset 14", { try bn([], outputs: ["y", "rm", "rv"], opset: 9) }, ["before opset 14"]),
            ("BatchNormalization running stats without training", { try bn([], outputs: ["y", "rm"]) }, ["optional output 1", "'rm'"]),
            ("LayerNormalization stash_type", { _ = try self.model([Node(opType: "LayerNormalization", inputs: ["x", "g"], outputs: ["y"], attributes: [("stash_type", .int(0))])],
                                                                  inputs: x + [("g", [2])], outputs: ["y"]) }, ["stash_type=0"]),
            ("Gelu approximate", { _ = try self.model([Node(opType: "Gelu", inputs: ["x"], outputs: ["y"], attributes: [("approximate", .string("fast"))])],
                                                      inputs: x, outputs: ["y"], opset: 20) }, ["approximate='fast'"]),
            ("Conv auto_pad", { _ = try self.model([Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: [("auto_pad", .string("SAME"))])], inputs: x, outputs: ["y"],
                                                   initializers: [ONNXTensorValue(name: "w", dims: [1, 2, 1, 1], floats: [1, 1])]) }, ["auto_pad 'SAME'"]),
            ("Conv 3-D", { _ = try self.model([Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: [("strides", .ints([1, 1, 1]))])], inputs: x, outputs: ["y"],
                                              initializers: [ONNXTensorValue(name: "w", dims: [1, 2, 1, 1], floats: [1, 1])]) }, ["3 spatial axes"]),
            ("Cast to float16", { _ = try self.model([Node(opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: [("to", .int(10))])], inputs: x, outputs: ["y"]) }, ["float16"]),
            ("Cast to string", { _ = try self.model([Node(opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: [("to", .int(8))])], inputs: x, outputs: ["y"]) }, ["string"]),
            ("Constant with two values", { _ = try self.model([Node(opType: "Constant", inputs: [], outputs: ["k"], attributes: [("value_float", .float(1)), ("value_int", .int(1))]),
                                                               Node(opType: "Add", inputs: ["x", "k"], outputs: ["y"])], inputs: x, outputs: ["y"]) }, ["2 value attributes"]),
            ("Constant string", { _ = try self.model([Node(opType: "Constant", inputs: [], outputs: ["k"], attributes: [("value_string", .string("a"))]),
                                                      Node(opType: "Add", inputs: ["x", "k"], outputs: ["y"])], inputs: x, outputs: ["y"]) }, ["value_string"]),
            ("ConstantOfShape value of 2 elements", { _ = try self.model([Node(opType: "ConstantOfShape", inputs: ["x"], outputs: ["y"], attributes: [("value", .tensor(ONNXTensorValue(dims: [2], floats: [1, 2])))])],
                                                                          inputs: x, outputs: ["y"]) }, ["one element"]),
            ("optional output of a single-output op", { _ = try self.model([Node(opType: "Relu", inputs: ["x"], outputs: ["y", "extra"])], inputs: x, outputs: ["y"]) },
             ["optional output 1", "'extra'"]),
        ]
        for (what, make, parts) in cases {
            expectError(make, parts + ["case.onnx"])
            _ = what
        }
    }

    /// Ops we do not run are named with their domain and opset, even with no inputs or outputs.
    /// (Models importing no ai.onnx opset, which our writer refuses to write, are in the node
    /// suite: test_adagrad, test_adam, test_ai_onnx_ml_*.)
    func testUnsupportedOpsNameDomainAndOpset() throws {
        expectError({ _ = try self.model([Node(opType: "SequenceEmpty", inputs: [], outputs: ["s"])], inputs: [("x", [1])], outputs: ["s"], opset: 22) },
                    ["SequenceEmpty", "domain ai.onnx", "opset 22", "unsupported ops"])
        var g = ONNXGraphDefinition(name: "case")
        g.nodes = [Node(opType: "Adam", domain: "ai.onnx.preview.training", inputs: ["x"], outputs: ["y"])]
        g.inputs = [ONNXValueDeclaration(name: "x", dims: [1])]
        g.outputs = [ONNXValueDeclaration(name: "y", dims: [1])]
        var def = ONNXModelDefinition(graph: g)
        def.opsetImports = [(domain: "", version: 17), (domain: "ai.onnx.preview.training", version: 1)]
        expectError({ _ = try ONNXModel(data: try def.serialized(), name: "case.onnx") }, ["Adam", "'ai.onnx.preview.training'", "opset 1"])
    }

    /// The operators page is generated from the catalog the parser uses.
    func testOperatorsPageMatchesTheCode() throws {
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/onnx/operators.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        XCTAssertEqual(text, OperatorCatalog.markdown(), "docs/onnx/operators.md is stale: regenerate it with `etrack onnx operators > docs/onnx/operators.md`")
        for o in OperatorCatalog.all {
            XCTAssertEqual(o.versions, o.versions.sorted(), o.name)
            XCTAssertNotNil(o.version(atOpset: OperatorCatalog.newestOpset), o.name)
        }
    }

    // MARK: tensor files

    func testTensorFilesRoundTripEveryType() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-tensorfile-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(ONNXDataType, ONNXTensorValue)] = [
            (.float, ONNXTensorValue(name: "f", dims: [2, 3], floats: [1.5, -2, 0, 3e-8, .infinity, -0.0])),
            (.int64, ONNXTensorValue(name: "i", dims: [3], int64s: [Int64.min, -1, Int64.max])),
            (.int32, ONNXTensorValue(name: "i32", dims: [2], int64s: [-5, 70000])),
            (.int8, ONNXTensorValue(name: "i8", dims: [2], int64s: [-128, 127])),
            (.uint8, ONNXTensorValue(name: "u8", dims: [2], int64s: [0, 255])),
            (.uint16, ONNXTensorValue(name: "u16", dims: [1], int64s: [65535])),
            (.bool, ONNXTensorValue(name: "b", dims: [3], int64s: [1, 0, 1])),
            (.float, ONNXTensorValue(name: "scalar", dims: [], floats: [7])),
        ]
        for (type, value) in cases {
            for format in [TensorFile.Format.npy, .pb] {
                let path = dir.appendingPathComponent("\(value.name).\(format.rawValue)").path
                try TensorFile.write(value, as: type, format: format, to: path)
                let back = try TensorFile.read(path: path)
                XCTAssertEqual(back.elementType, type, "\(value.name).\(format)")
                XCTAssertEqual(back.value.dims, value.dims, "\(value.name).\(format)")
                XCTAssertEqual(back.value.storage, value.storage, "\(value.name).\(format)")
            }
        }
        // Broken files name the problem.
        let npy = dir.appendingPathComponent("bad.npy").path
        let good = try TensorFile.npyBytes(ONNXTensorValue(dims: [4], floats: [1, 2, 3, 4]), as: .float)
        try Data(good.dropLast(3)).write(to: URL(fileURLWithPath: npy))
        expectError({ _ = try TensorFile.read(path: npy) }, ["bad.npy", "needs 16"])
        try Data(good.prefix(4)).write(to: URL(fileURLWithPath: npy))
        expectError({ _ = try TensorFile.read(path: npy) }, ["bad.npy"])
        func replacing(_ bytes: [UInt8], _ old: String, _ new: String) -> [UInt8] {
            let o = Array(old.utf8), n = Array(new.utf8)
            guard let i = (0...(bytes.count - o.count)).first(where: { Array(bytes[$0..<($0 + o.count)]) == o }) else { return bytes }
            var out = bytes
            out.replaceSubrange(i..<(i + o.count), with: n)
            return out
        }
        try Data(replacing(good, "False", "True ")).write(to: URL(fileURLWithPath: npy))
        expectError({ _ = try TensorFile.read(path: npy) }, ["Fortran"])
        try Data(replacing(good, "<f4", "<c8")).write(to: URL(fileURLWithPath: npy))
        expectError({ _ = try TensorFile.read(path: npy) }, ["<c8", "not supported"])
        let pb = dir.appendingPathComponent("bad.pb").path
        try Data([0x0a, 0xff]).write(to: URL(fileURLWithPath: pb))
        expectError({ _ = try TensorFile.read(path: pb) }, ["bad.pb", "TensorProto"])
    }
}

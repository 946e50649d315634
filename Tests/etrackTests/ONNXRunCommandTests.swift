import ETONNX
import Foundation
import XCTest

/// `etrack onnx run` with self-describing tensor files: float and integer inputs, outputs in
/// their declared types, the old raw float32 form, and clear errors.
extension TrackCommandTests {
    func testONNXRunTakesNpyAndTensorProtoAndWritesDeclaredTypes() throws {
        let dir = try temporaryDirectory()
        var g = ONNXGraphDefinition(name: "io")
        g.nodes = [ONNXNodeDefinition(opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"]),
                   ONNXNodeDefinition(opType: "Shape", inputs: ["y"], outputs: ["s"]),
                   ONNXNodeDefinition(opType: "Add", inputs: ["x", "x"], outputs: ["z"])]
        g.inputs = [ONNXValueDeclaration(name: "x", dims: [2, 3]), ONNXValueDeclaration(name: "shape", elementType: .int64, dims: [2])]
        g.outputs = [ONNXValueDeclaration(name: "y", dims: [3, 2]), ONNXValueDeclaration(name: "s", elementType: .int64, dims: [2]),
                     ONNXValueDeclaration(name: "z", dims: [2, 3])]
        try ONNXModelDefinition(graph: g).write(to: dir + "/io.onnx")
        let x = ONNXTensorValue(name: "x", dims: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        try TensorFile.write(x, as: .float, format: .npy, to: dir + "/x.npy")
        try TensorFile.write(x, as: .float, format: .f32, to: dir + "/x.f32")
        try TensorFile.write(ONNXTensorValue(name: "shape", dims: [2], int64s: [3, -1]), as: .int64, format: .pb, to: dir + "/shape.pb")

        for xSpec in ["x=\(dir)/x.npy", "x=\(dir)/x.f32:2x3"] {
            let out = dir + "/out-\(xSpec.hasSuffix("2x3") ? "f32" : "npy")"
            // The TensorProto names its input itself.
            let r = try etrack(["onnx", "run", "--model", dir + "/io.onnx", "--input", xSpec, "--input", dir + "/shape.pb", "--output-dir", out])
            XCTAssertEqual(r.status, 0, r.output)
            let y = try TensorFile.read(path: out + "/y.npy"), s = try TensorFile.read(path: out + "/s.npy"), z = try TensorFile.read(path: out + "/z.npy")
            XCTAssertEqual(y.elementType, .float)
            XCTAssertEqual(y.value.dims, [3, 2])
            XCTAssertEqual(y.value.storage, .float32([1, 2, 3, 4, 5, 6]))
            XCTAssertEqual(s.elementType, .int64, "integer outputs keep their type")
            XCTAssertEqual(s.value.storage, .int64([3, 2]))
            XCTAssertEqual(z.value.storage, .float32([2, 4, 6, 8, 10, 12]))
            let shapes = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/shapes.json"))) as! [String: [String: Any]]
            XCTAssertEqual(shapes["s"]?["type"] as? String, "int64")
        }
        let pbOut = dir + "/out-pb"
        XCTAssertEqual(try etrack(["onnx", "run", "--model", dir + "/io.onnx", "--input", "x=\(dir)/x.npy", "--input", "shape=\(dir)/shape.pb",
                                   "--output-dir", pbOut, "--format", "pb"]).status, 0)
        XCTAssertEqual(try TensorFile.read(path: pbOut + "/s.pb").value.storage, .int64([3, 2]))

        // Errors that say what is wrong.
        let missing = try etrack(["onnx", "run", "--model", dir + "/io.onnx", "--input", "x=\(dir)/x.npy", "--output-dir", dir + "/e1"])
        XCTAssertEqual(missing.status, 64, missing.output)
        XCTAssertTrue(missing.output.contains("no --input for the model's input 'shape'"), missing.output)
        let wrongType = try etrack(["onnx", "run", "--model", dir + "/io.onnx", "--input", "x=\(dir)/x.npy", "--input", "shape=\(dir)/x.npy", "--output-dir", dir + "/e2"])
        XCTAssertNotEqual(wrongType.status, 0)
        XCTAssertTrue(wrongType.output.contains("input 'shape' is int64, the file holds float32"), wrongType.output)
        let unknown = try etrack(["onnx", "run", "--model", dir + "/io.onnx", "--input", "w=\(dir)/x.npy", "--output-dir", dir + "/e3"])
        XCTAssertTrue(unknown.output.contains("no input 'w'"), unknown.output)
        let f32Int = try etrack(["onnx", "run", "--model", dir + "/io.onnx", "--input", "x=\(dir)/x.npy", "--input", "shape=\(dir)/shape.pb",
                                 "--output-dir", dir + "/e4", "--format", "f32"])
        XCTAssertNotEqual(f32Int.status, 0)
        XCTAssertTrue(f32Int.output.contains("raw .f32 holds float32 only"), f32Int.output)
        let truncated = dir + "/short.npy"
        try Data(try Data(contentsOf: URL(fileURLWithPath: dir + "/x.npy")).dropLast(4)).write(to: URL(fileURLWithPath: truncated))
        let short = try etrack(["onnx", "run", "--model", dir + "/io.onnx", "--input", "x=\(truncated)", "--input", dir + "/shape.pb", "--output-dir", dir + "/e5"])
        XCTAssertEqual(short.status, 1, short.output)
        XCTAssertTrue(short.output.contains("short.npy") && short.output.contains("needs 24"), short.output)
    }

    func testONNXOperatorsListsTheCatalog() throws {
        let r = try etrack(["onnx", "operators", "--json"])
        XCTAssertEqual(r.status, 0, r.output)
        let doc = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as! [String: Any]
        XCTAssertEqual(doc["newest_opset"] as? Int, 28)
        let names = (doc["operators"] as! [[String: Any]]).map { $0["name"] as! String }
        XCTAssertEqual(names, OperatorCatalog.names)
        XCTAssertTrue(names.contains("Mean") && names.contains("Sum"))
    }
}

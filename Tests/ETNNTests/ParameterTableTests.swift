import ETCore
import XCTest
import ETNN

final class ParameterTableTests: XCTestCase {
    /// The table (what is allocated and saved) and the accounting come from the same layer list;
    /// check they agree for every configuration.
    func testTableCountsEqualUnfoldedAccounting() throws {
        for cfg in ModelRegistry.all {
            let t = ParameterTable(cfg)
            let acc = ModelAccounting(cfg, folding: .none, countClassToken: true)
            XCTAssertEqual(t.trainableCount, acc.params, cfg.name)
            XCTAssertEqual(t.specs.filter { $0.role == .table }.reduce(0) { $0 + $1.count }, acc.tableParams, cfg.name)
            XCTAssertEqual(Set(t.specs.map(\.name)).count, t.specs.count, "\(cfg.name): duplicate names")
        }
    }

    func testStableNamesAndShapes() throws {
        let t = ParameterTable(try ModelRegistry.configuration(named: "et-128-fgaf3-bn"))
        XCTAssertEqual(t["patch_embed.0.conv.weight"]?.shape, [16, 3, 3, 3])
        XCTAssertEqual(t["patch_embed.3.bn.running_var"]?.shape, [128])
        XCTAssertEqual(t["pos_z"]?.shape, [1, 64, 128])
        XCTAssertEqual(t["pos_x"]?.shape, [1, 256, 128])
        XCTAssertEqual(t["blocks.0.0.fc1.conv.weight"]?.shape, [256, 128, 1])
        XCTAssertEqual(t["blocks.2.1.qkv.weight"]?.shape, [256, 32, 1])
        XCTAssertEqual(t["blocks.2.1.bn.weight"]?.shape, [128])
        XCTAssertEqual(t["norm.weight"]?.shape, [128])
        XCTAssertEqual(t["box_head.conv1_ctr.0.weight"]?.shape, [128, 128, 3, 3])
        XCTAssertEqual(t["box_head.conv5_offset.weight"]?.shape, [2, 16, 1, 1])
        let vt = ParameterTable(try ModelRegistry.configuration(named: "vittrack-d3-c128"))
        XCTAssertEqual(vt["cls_token"]?.shape, [1, 1, 128])
        XCTAssertEqual(vt["pos_embed"]?.shape, [1, 321, 128])
        XCTAssertEqual(vt["blocks.1.attn.qkv.weight"]?.shape, [384, 128])
        XCTAssertEqual(vt["patch_embed.0.conv.weight"]?.shape, [16, 3, 2, 2])
        XCTAssertEqual(vt["blocks.1.mlp.fc2.weight"]?.shape, [128, 512])
    }

    func testLoadingChecksNamesShapesAndValues() throws {
        let model = try Model(named: "vittrack-opencv-48")
        randomize(model, seed: 5)
        var tensors = model.tensors()
        let other = try Model(named: "vittrack-opencv-48")
        tensors["patch_embed.0.bn.num_batches_tracked"] = Tensor(zeros: [])
        try other.load(tensors)
        XCTAssertEqual(other.parameters, model.parameters)

        var missing = tensors
        missing["norm.bias"] = nil
        XCTAssertThrowsError(try other.load(missing)) { XCTAssertEqual($0 as? ModelError, .missingTensor("norm.bias")) }
        XCTAssertNoThrow(try other.load(missing, allowMissing: true))

        var extra = tensors
        extra["blocks.9.attn.qkv.weight"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try other.load(extra)) { e in
            XCTAssertTrue(String(describing: e).contains("'blocks.9.attn.qkv.weight' is not part"), "\(e)")
        }

        var shape = tensors
        shape["blocks.0.attn.qkv.weight"] = Tensor(zeros: [144, 47])
        XCTAssertThrowsError(try other.load(shape)) { e in
            XCTAssertEqual(String(describing: e), "weights: tensor 'blocks.0.attn.qkv.weight' has shape [144, 47], expected [144, 48]")
        }

        var nan = tensors
        nan["box_head.conv2_size.0.bias"]!.data[3] = .nan
        let before = other.parameters
        XCTAssertThrowsError(try other.load(nan)) { e in
            XCTAssertTrue(String(describing: e).contains("'box_head.conv2_size.0.bias' holds a non-finite value"), "\(e)")
        }
        XCTAssertEqual(other.parameters, before, "a failed load must change nothing")
    }

    func testDefaultsAndVitTrackPositionTable() throws {
        let m = try Model(named: "vittrack-d3-c128")
        let pos = m.array("pos_embed")
        XCTAssertEqual(Array(pos[0..<128]), [Float](repeating: 0, count: 128), "cls row is zero")
        XCTAssertEqual(pos[128 + 0], 0)          // p = 0: sin 0
        XCTAssertEqual(pos[128 + 1], 1)          // cos 0
        XCTAssertEqual(pos[2 * 128 + 0], Float(sin(1.0)), accuracy: 1e-7)
        XCTAssertEqual(pos[2 * 128 + 1], Float(cos(1.0)), accuracy: 1e-7)
        XCTAssertEqual(pos[4 * 128 + 2], Float(sin(3.0 / pow(10000.0, 2.0 / 128.0))), accuracy: 1e-6)
        XCTAssertEqual(m.array("patch_embed.2.bn.running_var"), [Float](repeating: 1, count: 64))
        XCTAssertEqual(m.array("norm.weight"), [Float](repeating: 1, count: 128))
    }
}

import Foundation
import XCTest
import ETNN

/// The notes' figures, hard-coded here independently of `NotesReference` (millions, as printed).
private let notesRows: [(model: String, row: String, params: Double, macs: Double)] = [
    ("et-128-vit3", "seed-notes Table 1, 128/128 - (and MAE, MTR rows)", 1.428, 460),
    ("et-256-vit3", "seed-notes Table 1, 256/128 -", 3.936, 1365),
    ("et-256-gaf3", "seed-notes Table 1, GAF*3", 3.417, 1194),
    ("et-256-fgaf3", "seed-notes Table 1, FGAF*3", 3.417, 1194),
    ("et-256-af3", "seed-notes Table 1, AF*3", 3.932, 1359),
    ("et-256-faf3", "seed-notes Table 1, FAF*3", 3.932, 1359),
    ("et-256-fgaf4", "seed-notes Table 1, FGAF*4", 4.035, 1390),
    ("et-256-fgaf2", "seed-notes Table 1, FGAF*2", 2.800, 997),
    ("et-128-af3-bn", "seed-notes Table 1, AF(BN)", 1.426, 457),
    ("et-128-faf3-bn", "seed-notes Table 1, FAF(BN)", 1.424, 456),
    ("et-128-gaf3-bn", "seed-notes Table 1, GAF(BN)", 1.303, 418),
    ("et-128-fgaf3-bn", "seed-notes Table 1, FGAF(BN)", 1.304, 418),
    ("et-256-fgaf3-c2", "seed-notes Table 1, MTR200 FGAF_C2", 3.202, 1026),
    ("vittrack-d3-c128", "seed-notes Table 3, d3 c128", 2.689, 753),
    ("vittrack-d3-c256", "seed-notes Table 3, d3 c256", 5.478, 1648),
    ("vittrack-d6-c256", "seed-notes Table 3, d6 c256", 7.848, 2405),
    ("vittrack-d12-c256", "seed-notes Tables 3 and 4, d12 c256", 12.586, 3918),
    ("vittrack-d4-c768", "seed-notes Table 3, d4 c768", 36.379, 11897),
    ("vittrack-d6-c768", "seed-notes Table 3, d6 c768", 50.555, 16431),
    ("vittrack-d12-c768", "seed-notes Table 3, d12 c768", 93.082, 30032),
    ("vittrack-opencv-48", "architecture.md §9 (zoo model)", 0.159, 56.6),
]

final class AccountingTests: XCTestCase {
    func testEveryNotesRowWithinPointThreePercent() throws {
        XCTAssertEqual(notesRows.count, 21)
        var worst = 0.0
        for r in notesRows {
            let rep = ModelReport(try ModelRegistry.configuration(named: r.model))
            let dp = Double(rep.params) / 1e6 / r.params - 1, dm = Double(rep.macs) / 1e6 / r.macs - 1
            worst = max(worst, abs(dp), abs(dm))
            XCTAssertLessThan(abs(dp), 0.003, "\(r.model) [\(r.row)]: params \(rep.params) vs \(r.params) M (\(dp * 100) %)")
            XCTAssertLessThan(abs(dm), 0.003, "\(r.model) [\(r.row)]: MACs \(rep.macs) vs \(r.macs) M (\(dm * 100) %)")
        }
        print("max relative difference over the 21 rows: \(worst * 100) %")
    }

    func testNotesReferenceMatchesTheTestsCopy() {
        XCTAssertEqual(NotesReference.rows.map(\.model), notesRows.map(\.model))
        for (a, b) in zip(NotesReference.rows, notesRows) {
            XCTAssertEqual(a.paramsM, b.params, a.model)
            XCTAssertEqual(a.macsM, b.macs, a.model)
        }
        XCTAssertEqual(Set(ModelRegistry.names), Set(notesRows.map(\.model)))
    }

    /// Exact integers of architecture.md §8's worked example and §2/§5.3 tables.
    func testWorkedExampleExact() throws {
        let rep = ModelReport(try ModelRegistry.configuration(named: "et-256-fgaf3"))
        let stage = Dictionary(uniqueKeysWithValues: rep.notes.stages.map { ($0.stage, $0) })
        XCTAssertEqual(stage["stem"]?.params, 388_416)
        XCTAssertEqual(stage["block.0"]?.params, 2 * 262_912 + 91_264)
        XCTAssertEqual(stage["norm"]?.params, 512)
        XCTAssertEqual(stage["head"]?.params, 1_177_285)
        XCTAssertEqual(rep.params, 3_417_477)
        // Stem unfolded at C=128: 97.7 K / 82.1 M; center head C=128, c=128: 0.735 M / 188 M.
        let base = ModelAccounting(try ModelRegistry.configuration(named: "et-128-vit3"), folding: .none, countClassToken: false)
        let s = base.stages.first { $0.stage == "stem" }!
        XCTAssertEqual(s.params, 97_680)
        XCTAssertEqual(Double(s.macs) / 1e6, 82.1, accuracy: 0.05)
        XCTAssertEqual(base.headParams, 734_917)
        XCTAssertEqual(Double(base.headMACs) / 1e6, 188.3, accuracy: 0.05)
    }

    func testAttentionMatmulsAndClassToken() throws {
        let vt = try ModelRegistry.configuration(named: "vittrack-d12-c256")
        let rep = ModelReport(vt)
        XCTAssertEqual(Double(rep.notes.attentionMACs) / 1e6, 629.1, accuracy: 0.05)
        let withCls = ModelAccounting(vt, folding: .none, countClassToken: true)
        XCTAssertEqual(Double(withCls.macs) / 1e6, 3927.9, accuracy: 0.05)   // architecture.md §8
        XCTAssertEqual(withCls.params, rep.params)
        // With the real 1+320-row table and the cls token (architecture.md §8: 12.6686).
        XCTAssertEqual(Double(rep.allParams) / 1e6, 12.6686, accuracy: 0.00005)
        // A without LN: 1.4251 M / 456.9 M (architecture.md §4.2).
        let noLN = ModelReport(try ModelRegistry.configuration(named: "et-128-faf3-bn@attentionNorm=false"))
        XCTAssertEqual(Double(noLN.params) / 1e6, 1.4251, accuracy: 0.00005)
        XCTAssertEqual(Double(noLN.macs) / 1e6, 456.9, accuracy: 0.05)
    }

    func testDepthOverrideAndErrors() throws {
        let d5 = try ModelRegistry.configuration(named: "et-256-fgaf3@depth=5")
        XCTAssertEqual(d5.depth, 5)
        XCTAssertEqual(d5.name, "et-256-fgaf3@depth=5")
        let d2 = ModelReport(try ModelRegistry.configuration(named: "et-256-fgaf3@depth=2"))
        XCTAssertEqual(d2.params, ModelReport(try ModelRegistry.configuration(named: "et-256-fgaf2")).params)
        XCTAssertThrowsError(try ModelRegistry.configuration(named: "et-999")) { e in
            let m = String(describing: e)
            XCTAssertTrue(m.contains("unknown model 'et-999'") && m.contains("et-256-fgaf3"), m)
        }
        XCTAssertThrowsError(try ModelRegistry.configuration(named: "et-256-fgaf3@depth=x"))
        XCTAssertThrowsError(try ModelRegistry.configuration(named: "et-256-fgaf3@width=3")) { e in
            XCTAssertTrue(String(describing: e).contains("unknown override 'width'"))
        }
        XCTAssertThrowsError(try ModelRegistry.configuration(named: "et-256-fgaf3@heads=3")) { e in
            XCTAssertTrue(String(describing: e).contains("not divisible"), String(describing: e))
        }
    }

    func testConfigurationsRoundTripThroughJSON() throws {
        for c in ModelRegistry.all {
            let data = try JSONEncoder().encode(c)
            XCTAssertEqual(try JSONDecoder().decode(ModelConfiguration.self, from: data), c, c.name)
            XCTAssertNoThrow(try c.validate(), c.name)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("etnn-config-\(getpid()).json")
        try JSONEncoder().encode(ModelRegistry.all[3]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try ModelRegistry.resolve(url.path), ModelRegistry.all[3])
        XCTAssertThrowsError(try ModelRegistry.resolve("/nonexistent/x.json"))
    }

    /// docs/models/accounting.md must be what `etrack models --accounting-markdown` prints now.
    func testAccountingDocIsUpToDate() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/models/accounting.md"), encoding: .utf8)
        XCTAssertEqual(doc, NotesReference.markdown(), "docs/models/accounting.md is stale: run docs/models/regenerate.sh")
    }
}

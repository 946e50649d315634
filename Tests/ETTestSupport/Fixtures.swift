import Foundation

/// The repository root (this file is Tests/ETTestSupport/Fixtures.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// `../shared` beside the repository (benchmark frames, models): tests may read it, the product never does.
public let sharedRoot = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared").path

/// A fresh folder under the temporary directory.
public func makeTemporaryDirectory(_ prefix: String = "etrack-test") throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// A dataset root holding links to the named sequences of `../shared/data/sequences`.
public func sharedSequencesRoot(_ names: [String]) throws -> String {
    let root = try makeTemporaryDirectory("etrack-seqs")
    for n in names {
        try FileManager.default.createSymbolicLink(atPath: root + "/" + n, withDestinationPath: sharedRoot + "/data/sequences/" + n)
    }
    return root
}

import ArgumentParser
import ETTracking

/// `--mode` and `--opencv-version`, shared by `etrack track` and `etrack eval run`.
struct TrackerModeOptions: ParsableArguments {
    @Option(help: "opencv (reproduce OpenCV's TrackerNano / TrackerVit) or corrected. Default: opencv for NanoTrack v1/v2 and for .onnx files without etrack metadata, corrected otherwise.")
    var mode: String?

    @Option(name: .customLong("opencv-version"),
            help: "The OpenCV release the opencv mode reproduces: 5.1 (default), 5.0, or 4.7-4.14 (the tracker code of 5.0; TrackerVit from 4.11). See docs/trackers/opencv-versions.md.")
    var openCVVersion: String?

    func validate() throws {
        if let mode, NanoTrackParameters.Mode(rawValue: mode) == nil { throw ValidationError("--mode must be 'opencv' or 'corrected', not '\(mode)'") }
        if let v = openCVVersion {
            do { _ = try OpenCVVersion(v) } catch { throw ValidationError("--opencv-version: \(error)") }
            if mode == "corrected" { throw ValidationError("--opencv-version applies to --mode opencv, not to --mode corrected") }
        }
    }

    /// The tracker options these flags ask for.
    func trackerOptions(threads: Int) throws -> TrackerOptions {
        TrackerOptions(threads: threads, nanoTrackMode: mode.flatMap(NanoTrackParameters.Mode.init),
                       openCVVersion: try openCVVersion.map { try OpenCVVersion($0) })
    }
}

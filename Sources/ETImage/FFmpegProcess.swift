import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Locating and running the `ffmpeg` / `ffprobe` command-line tools.
enum FFmpegTool {
    /// The absolute path of `tool` on `PATH`.
    static func locate(_ tool: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(tool)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ImageError.toolMissing(tool: tool)
    }

    /// Runs a tool to completion and returns its standard output; throws with its standard
    /// error if it fails.
    static func capture(_ tool: String, _ arguments: [String], file: String) throws -> Data {
        let process = Process()
        process.executableURL = try locate(tool)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ImageError.videoFailed(file: file, reason: "cannot start \(tool): \(error.localizedDescription)")
        }
        // ffprobe output is small; read stderr on another thread so neither pipe can fill up.
        let errData = LockedData()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ImageError.videoFailed(file: file, reason: "\(tool) failed: \(errData.text)")
        }
        return data
    }

    /// Stops writes to a pipe whose reader has exited from killing the process with SIGPIPE;
    /// `write` then fails with EPIPE, which ``VideoWriter`` reports. Process-wide, set once.
    static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()
}

/// Data filled in by a background reader.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A child process whose standard error is collected in the background (so a chatty child
/// never blocks on a full pipe) for error messages.
final class ChildProcess {
    let process = Process()
    let stderr = LockedData()
    private let errPipe = Pipe()
    private let errDone = DispatchGroup()

    init(_ tool: String, _ arguments: [String], stdin: Any?, stdout: Any?, file: String) throws {
        process.executableURL = try FFmpegTool.locate(tool)
        process.arguments = arguments
        process.standardInput = stdin ?? FileHandle.nullDevice
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = errPipe
        do { try process.run() } catch {
            throw ImageError.videoFailed(file: file, reason: "cannot start \(tool): \(error.localizedDescription)")
        }
        let handle = errPipe.fileHandleForReading, sink = stderr
        errDone.enter()
        DispatchQueue.global().async { [errDone] in
            sink.set(handle.readDataToEndOfFile())
            errDone.leave()
        }
    }

    /// Waits for the child to exit; returns its status.
    @discardableResult
    func wait() -> Int32 {
        process.waitUntilExit()
        errDone.wait()
        return process.terminationStatus
    }

    func terminate() { if process.isRunning { process.terminate() } }
}

import Foundation

/// Writing a file so that a reader (or a resumed run) sees the old file or the whole new one,
/// never half of one: the bytes go to `.<name>.partial-<pid>` in the same folder, are flushed,
/// and `rename(2)` puts them in place. A process killed mid-write leaves only that hidden
/// temporary; the next write of the same file removes those of dead processes, so kills do not
/// pile up litter (scripts/hardening/kill_test.py checks both).
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let name = path.pathLastComponent
        let dir = path.pathDeletingLastComponent.isEmpty ? "." : path.pathDeletingLastComponent
        removeStaleTemporaries(of: name, in: dir)
        let tmp = (dir).pathAppending(".\(name).partial-\(getpid())")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(description: "\(path): cannot write (\(String(cString: strerror(errno))); is \(dir) writable?)") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let why = String(cString: strerror(errno))
                close(fd); unlink(tmp)
                throw WriteError(description: "\(path): cannot write: \(why) (is the disk full?)")
            }
            offset += n
        }
        fsync(fd)
        close(fd)
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw WriteError(description: "\(path): cannot rename the finished temporary file into place: \(why)")
        }
    }

    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }

    /// Removes `.<name>.partial-<pid>` files whose process is gone.
    static func removeStaleTemporaries(of name: String, in dir: String) {
        let prefix = ".\(name).partial-"
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where file.hasPrefix(prefix) {
            guard let pid = Int32(file.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink((dir).pathAppending(file))
        }
    }
}

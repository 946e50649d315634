#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file. ONNX weights are read straight out of it
/// (no per-tensor copy while parsing).
final class MappedFile: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private let length: Int

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ONNXError("\(path): cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ONNXError("\(path): cannot stat") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ONNXError("\(path): not a regular file") }
        length = Int(st.st_size)
        guard length > 0 else { throw ONNXError("\(path): empty file, not an ONNX model") }
        guard let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ONNXError("\(path): cannot map the file")
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: length)
    }

    /// Wraps bytes already in memory (copied once).
    init(name: String, data: [UInt8]) {
        path = name
        length = data.count
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, data.count), alignment: 16)
        data.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: data.count) }
        base = nil
        owned = p
        bytes = UnsafeRawBufferPointer(start: p, count: data.count)
    }
    private var owned: UnsafeMutableRawPointer?

    deinit {
        if let base { munmap(base, length) }
        owned?.deallocate()
    }
}

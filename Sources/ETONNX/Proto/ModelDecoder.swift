/// Decodes `ONNXModelProto` from protobuf bytes. Unknown fields are skipped by wire type, so
/// files from newer exporters still load; malformed bytes raise an error with the offset.
enum ModelDecoder {
    static func decodeModel(file: MappedFile) throws -> ONNXModelProto {
        var r = WireReader(file.bytes)
        var m = ONNXModelProto()
        var sawGraph = false
        while let (f, t) = try r.readKey() {
            switch (f, t) {
            case (1, .varint): m.irVersion = Int64(bitPattern: try r.readVarint())
            case (2, .lengthDelimited): m.producerName = try r.readString()
            case (3, .lengthDelimited): m.producerVersion = try r.readString()
            case (7, .lengthDelimited):
                var sub = try r.readMessage()
                m.graph = try decodeGraph(&sub, file: file)
                sawGraph = true
            case (8, .lengthDelimited):
                var sub = try r.readMessage()
                var domain = "", version: Int64 = 0
                while let (g, u) = try sub.readKey() {
                    switch (g, u) {
                    case (1, .lengthDelimited): domain = try sub.readString()
                    case (2, .varint): version = Int64(bitPattern: try sub.readVarint())
                    default: try sub.skip(u)
                    }
                }
                m.opsets[domain == "ai.onnx" ? "" : domain] = version
            case (14, .lengthDelimited):
                var sub = try r.readMessage()
                var key = "", value = ""
                while let (g, u) = try sub.readKey() {
                    switch (g, u) {
                    case (1, .lengthDelimited): key = try sub.readString()
                    case (2, .lengthDelimited): value = try sub.readString()
                    default: try sub.skip(u)
                    }
                }
                m.metadata[key] = value
            default: try r.skip(t)
            }
        }
        guard sawGraph else { throw WireReader.WireError(message: "no graph in the file (not an ONNX model?)", offset: 0) }
        return m
    }

    static func decodeGraph(_ r: inout WireReader, file: MappedFile) throws -> ONNXGraphProto {
        var g = ONNXGraphProto()
        while let (f, t) = try r.readKey() {
            switch (f, t) {
            case (1, .lengthDelimited): var s = try r.readMessage(); g.nodes.append(try decodeNode(&s, file: file))
            case (2, .lengthDelimited): g.name = try r.readString()
            case (5, .lengthDelimited): var s = try r.readMessage(); g.initializers.append(try decodeTensor(&s, file: file))
            case (11, .lengthDelimited): var s = try r.readMessage(); g.inputs.append(try decodeValueInfo(&s))
            case (12, .lengthDelimited): var s = try r.readMessage(); g.outputs.append(try decodeValueInfo(&s))
            default: try r.skip(t)
            }
        }
        return g
    }

    static func decodeNode(_ r: inout WireReader, file: MappedFile) throws -> ONNXNodeProto {
        var n = ONNXNodeProto()
        while let (f, t) = try r.readKey() {
            switch (f, t) {
            case (1, .lengthDelimited): n.inputs.append(try r.readString())
            case (2, .lengthDelimited): n.outputs.append(try r.readString())
            case (3, .lengthDelimited): n.name = try r.readString()
            case (4, .lengthDelimited): n.opType = try r.readString()
            case (5, .lengthDelimited):
                var s = try r.readMessage()
                let (name, a) = try decodeAttribute(&s, file: file)
                n.attributes[name] = a
            case (7, .lengthDelimited): n.domain = try r.readString()
            default: try r.skip(t)
            }
        }
        if n.domain == "ai.onnx" { n.domain = "" }
        return n
    }

    static func decodeAttribute(_ r: inout WireReader, file: MappedFile) throws -> (String, ONNXAttribute) {
        var name = "", type: Int64 = 0
        var f: Float?, i: Int64?, s: String?, tensor: ONNXTensorProto?
        var floats: [Float] = [], ints: [Int64] = [], strings: [String] = []
        while let (fld, t) = try r.readKey() {
            switch (fld, t) {
            case (1, .lengthDelimited): name = try r.readString()
            case (2, .fixed32): f = Float(bitPattern: try r.readFixed32())
            case (3, .varint): i = Int64(bitPattern: try r.readVarint())
            case (4, .lengthDelimited): s = try r.readString()
            case (5, .lengthDelimited): var sub = try r.readMessage(); tensor = try decodeTensor(&sub, file: file)
            case (7, _): try r.readFloats(t, into: &floats)
            case (8, _): try r.readInt64s(t, into: &ints)
            case (9, .lengthDelimited): strings.append(try r.readString())
            case (20, .varint): type = Int64(bitPattern: try r.readVarint())
            default: try r.skip(t)
            }
        }
        // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7, STRINGS 8.
        let a: ONNXAttribute
        switch type {
        case 1: a = .float(f ?? 0)
        case 2: a = .int(i ?? 0)
        case 3: a = .string(s ?? "")
        case 4:
            guard let tensor else { throw WireReader.WireError(message: "attribute '\(name)' of type TENSOR has no tensor", offset: r.offset) }
            a = .tensor(tensor)
        case 6: a = .floats(floats)
        case 7: a = .ints(ints)
        case 8: a = .strings(strings)
        case 0:
            // Very old exporters omit `type`; infer it from the field present.
            if let f { a = .float(f) } else if let i { a = .int(i) } else if let s { a = .string(s) }
            else if let tensor { a = .tensor(tensor) } else if !floats.isEmpty { a = .floats(floats) }
            else if !ints.isEmpty { a = .ints(ints) } else { a = .strings(strings) }
        default: a = .unsupported(type: type)
        }
        return (name, a)
    }

    static func decodeTensor(_ r: inout WireReader, file: MappedFile) throws -> ONNXTensorProto {
        var t = ONNXTensorProto()
        t.file = file
        while let (f, w) = try r.readKey() {
            switch (f, w) {
            case (1, _): try r.readInt64s(w, into: &t.dims)
            case (2, .varint): t.dataType = Int64(bitPattern: try r.readVarint())
            case (4, _): try r.readFloats(w, into: &t.floatData)
            case (5, _): try r.readInt64s(w, into: &t.int32Data)
            case (7, _): try r.readInt64s(w, into: &t.int64Data)
            case (8, .lengthDelimited): t.name = try r.readString()
            case (9, .lengthDelimited): t.rawRange = try r.readLengthDelimited()
            case (10, _): try r.readDoubles(w, into: &t.doubleData)
            case (13, .lengthDelimited): _ = try r.readLengthDelimited(); t.hasExternalData = true
            case (14, .varint): if try r.readVarint() == 1 { t.hasExternalData = true }
            default: try r.skip(w)
            }
        }
        if t.dims.contains(where: { $0 < 0 }) {
            throw WireReader.WireError(message: "tensor '\(t.name)' has a negative dimension \(t.dims)", offset: r.offset)
        }
        return t
    }

    static func decodeValueInfo(_ r: inout WireReader) throws -> ONNXValueInfo {
        var v = ONNXValueInfo()
        while let (f, t) = try r.readKey() {
            switch (f, t) {
            case (1, .lengthDelimited): v.name = try r.readString()
            case (2, .lengthDelimited):
                var typeProto = try r.readMessage()
                while let (g, u) = try typeProto.readKey() {
                    guard g == 1, u == .lengthDelimited else {
                        if u == .lengthDelimited, [4, 5, 8, 9].contains(g) { v.nonTensorType = g }
                        try typeProto.skip(u); continue
                    }
                    var tensorType = try typeProto.readMessage()
                    while let (h, x) = try tensorType.readKey() {
                        switch (h, x) {
                        case (1, .varint): v.elementType = Int64(bitPattern: try tensorType.readVarint())
                        case (2, .lengthDelimited):
                            var shape = try tensorType.readMessage()
                            var dims: [ONNXDimension] = []
                            while let (k, y) = try shape.readKey() {
                                guard k == 1, y == .lengthDelimited else { try shape.skip(y); continue }
                                var dim = try shape.readMessage()
                                var d = ONNXDimension.unknown
                                while let (m, z) = try dim.readKey() {
                                    switch (m, z) {
                                    case (1, .varint): d = .value(Int(Int64(bitPattern: try dim.readVarint())))
                                    case (2, .lengthDelimited): d = .symbol(try dim.readString())
                                    default: try dim.skip(z)
                                    }
                                }
                                dims.append(d)
                            }
                            v.shape = dims
                        default: try tensorType.skip(x)
                        }
                    }
                }
            default: try r.skip(t)
            }
        }
        return v
    }
}

import CZstd

/// Decodes a Zstandard stream read from another source, frame after frame (skippable frames are passed over).
///
/// A stream that stops inside a frame is an error, never a silent end of input.
final class ZstdByteSource: ByteSource {
    let name: String
    /// Bytes produced so far, i.e. the decoded offset of the next byte.
    private(set) var decodedBytes: Int64 = 0

    private let upstream: any ByteSource
    private let stream: OpaquePointer
    private let input: UnsafeMutableRawPointer
    private let inputCapacity: Int
    private var inputPosition = 0
    private var inputEnd = 0
    private var upstreamEnded = false
    /// True between the start of a frame and the call that reports it complete and flushed.
    private var insideFrame = false

    /// Starts decoding `upstream`.
    ///
    /// Throws `ReadError` of kind `.decoderSetup` when the decoder cannot be allocated.
    init(upstream: any ByteSource) throws(ReadError) {
        self.upstream = upstream
        self.name = upstream.name
        guard let stream = ZSTD_createDStream() else {
            throw ReadError(source: upstream.name, kind: .decoderSetup, message: "cannot create a zstd decoder")
        }
        self.stream = stream
        inputCapacity = max(ZSTD_DStreamInSize(), 256 * 1024)
        input = UnsafeMutableRawPointer.allocate(byteCount: inputCapacity, alignment: 16)
    }

    deinit {
        ZSTD_freeDStream(stream)
        input.deallocate()
    }

    /// Decodes the next bytes into `buffer`; returns 0 once every frame has been read.
    ///
    /// Throws `ReadError` `.truncatedCompressedStream` when the input ends inside a frame,
    /// `.corruptCompressedStream` when the decoder rejects the data, or the upstream's read error.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ReadError) -> Int {
        guard let destination = buffer.baseAddress, buffer.count > 0 else {
            return 0
        }
        var output = ZSTD_outBuffer(dst: destination, size: buffer.count, pos: 0)
        while output.pos < output.size {
            if inputPosition == inputEnd && !upstreamEnded {
                // Everything decodable was flushed (the output is not full): hand it out before blocking on a read.
                if output.pos > 0 {
                    break
                }
                let got = try upstream.read(into: UnsafeMutableRawBufferPointer(start: input, count: inputCapacity))
                if got == 0 {
                    upstreamEnded = true
                } else {
                    inputPosition = 0
                    inputEnd = got
                }
            }
            if inputPosition == inputEnd && upstreamEnded {
                if !insideFrame {
                    break
                }
                let before = output.pos
                try decode(&output)
                if output.pos == before && insideFrame {
                    let produced = decodedBytes + Int64(output.pos)
                    throw ReadError(
                        source: name, offset: produced, kind: .truncatedCompressedStream,
                        message: "zstd stream ends mid-frame after \(produced) decoded bytes")
                }
                continue
            }
            try decode(&output)
        }
        decodedBytes += Int64(output.pos)
        return output.pos
    }

    private func decode(_ output: inout ZSTD_outBuffer) throws(ReadError) {
        var source = ZSTD_inBuffer(src: input, size: inputEnd, pos: inputPosition)
        let result = ZSTD_decompressStream(stream, &output, &source)
        inputPosition = source.pos
        if ZSTD_isError(result) != 0 {
            let produced = decodedBytes + Int64(output.pos)
            let reason = ZSTD_getErrorName(result).map { String(cString: $0) } ?? "unknown error"
            if ZSTD_getErrorCode(result) == ZSTD_error_memory_allocation {
                // Memory the decoder could not have (ulimit -v, a cgroup's limit): not a damaged stream.
                throw ReadError(
                    source: name, offset: produced, kind: .io,
                    message: "not enough memory to decode the zstd stream: \(reason) after \(produced) decoded bytes")
            }
            throw ReadError(
                source: name, offset: produced, kind: .corruptCompressedStream,
                message: "zstd data corrupt: \(reason) after \(produced) decoded bytes")
        }
        insideFrame = result != 0
    }
}

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
            // What this call decoded goes out before bytes that start no frame are reported (by the next call).
            if !insideFrame && inputPosition < inputEnd && !startsAFrame() {
                if output.pos > 0 { break }
                let first = inputPosition < inputEnd ? input.load(fromByteOffset: inputPosition, as: UInt8.self) : 0
                throw ReadError.trailingData(name, at: decodedBytes, first: first, format: "zstd frame")
            }
            try decode(&output)
        }
        decodedBytes += Int64(output.pos)
        return output.pos
    }

    /// True when the bytes where a frame would start (those read so far) may start one: a zstd frame
    /// (`28 B5 2F FD`) or a skippable one (`5? 2A 4D 18`).
    private func startsAFrame() -> Bool {
        let available = UnsafeRawBufferPointer(start: input + inputPosition, count: min(inputEnd - inputPosition, 4))
        let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18]
        let isFrame = zip(available, frame).allSatisfy { $0 == $1 }
        let isSkippable = zip(available.indices, available).allSatisfy { index, byte in
            index == 0 ? byte & 0xF0 == skippable[0] : byte == skippable[index]
        }
        return isFrame || isSkippable
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

import CZlib

/// Decodes gzip data read from another source with zlib, member after member (`cat a.gz b.gz` reads as one stream).
///
/// A stream that stops inside a member, or is followed by bytes that are not a member (`.trailingData`, handed
/// on only once every decoded byte before them is), is an error — except zeros alone after the last member,
/// which GNU gzip ignores too.
final class GzipByteSource: ByteSource {
    let name: String
    /// Bytes produced so far, i.e. the decoded offset of the next byte.
    private(set) var decodedBytes: Int64 = 0

    private let upstream: any ByteSource
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity = 256 * 1024
    private var upstreamEnded = false
    /// True from the first byte of a member to its `Z_STREAM_END`.
    private var insideMember = false
    private var membersStarted = 0
    /// True once zeros followed the last member: only zeros may come up to the end.
    private var inPadding = false

    /// Starts decoding `upstream` (gzip or zlib headers, detected by zlib: window bits 15 + 32).
    ///
    /// Throws `ReadError` of kind `.decoderSetup` when zlib cannot be initialised.
    init(upstream: any ByteSource) throws(ReadError) {
        self.upstream = upstream
        self.name = upstream.name
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = UnsafeMutablePointer<UInt8>.allocate(capacity: inputCapacity)
        let status = factpipe_inflate_init2(stream, 15 + 32)
        if status != Z_OK {
            stream.deinitialize(count: 1)
            stream.deallocate()
            input.deallocate()
            throw ReadError(source: upstream.name, kind: .decoderSetup, message: "cannot initialise zlib (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
    }

    /// Decodes the next bytes into `buffer`; returns 0 once the last member has been read.
    ///
    /// Throws `ReadError` `.truncatedCompressedStream` when the input ends inside a member,
    /// `.corruptCompressedStream` when zlib rejects the data, or the upstream's read error.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ReadError) -> Int {
        guard let destination = buffer.baseAddress, buffer.count > 0 else {
            return 0
        }
        let capacity = min(buffer.count, Int(UInt32.max))
        stream.pointee.next_out = destination.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(capacity)
        while stream.pointee.avail_out > 0 {
            let produced = capacity - Int(stream.pointee.avail_out)
            if stream.pointee.avail_in == 0 && !upstreamEnded {
                if produced > 0 {
                    break
                }
                let got = try upstream.read(into: UnsafeMutableRawBufferPointer(start: input, count: inputCapacity))
                if got == 0 {
                    upstreamEnded = true
                } else {
                    stream.pointee.next_in = input
                    stream.pointee.avail_in = UInt32(got)
                }
            }
            if !insideMember {
                if stream.pointee.avail_in == 0 {
                    if upstreamEnded {
                        break
                    }
                    continue
                }
                if membersStarted > 0, let next = stream.pointee.next_in, inPadding || next.pointee == 0 {
                    // Zeros after the last member (tape or block padding) are ignored, as GNU gzip does;
                    // anything after them is not.
                    inPadding = true
                    let count = Int(stream.pointee.avail_in)
                    if UnsafeBufferPointer(start: next, count: count).contains(where: { $0 != 0 }) {
                        // What this call decoded goes out first; the next call, decoding nothing, throws.
                        if produced > 0 { break }
                        throw ReadError.trailingData(name, at: decodedBytes, first: 0, format: "gzip member")
                    }
                    stream.pointee.next_in = next + count
                    stream.pointee.avail_in = 0
                    continue
                }
                if membersStarted > 0, let next = stream.pointee.next_in {
                    // A next member starts with the gzip magic; anything else is a tail, not a member cut short.
                    let start = UnsafeBufferPointer(start: next, count: min(Int(stream.pointee.avail_in), 2))
                    if !zip(start, [0x1F, 0x8B] as [UInt8]).allSatisfy({ $0 == $1 }) {
                        // What this call decoded goes out first (it is whole); the next call throws.
                        if produced > 0 { break }
                        throw ReadError.trailingData(name, at: decodedBytes, first: start[0], format: "gzip member")
                    }
                    inflateReset(stream)
                }
                membersStarted += 1
                insideMember = true
            }
            let outBefore = stream.pointee.avail_out
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_STREAM_END:
                insideMember = false
            case Z_OK, Z_BUF_ERROR:
                if upstreamEnded && stream.pointee.avail_in == 0 && stream.pointee.avail_out == outBefore {
                    let at = decodedBytes + Int64(capacity - Int(stream.pointee.avail_out))
                    throw ReadError(
                        source: name, offset: at, kind: .truncatedCompressedStream,
                        message: "gzip stream ends mid-member after \(at) decoded bytes")
                }
            default:
                let at = decodedBytes + Int64(capacity - Int(stream.pointee.avail_out))
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw ReadError(
                    source: name, offset: at, kind: .corruptCompressedStream,
                    message: "gzip data corrupt: \(reason) after \(at) decoded bytes")
            }
        }
        let produced = capacity - Int(stream.pointee.avail_out)
        decodedBytes += Int64(produced)
        return produced
    }
}

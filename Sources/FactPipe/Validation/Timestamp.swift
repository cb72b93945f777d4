#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ISO 8601 timestamps in UTC, read and written without Foundation (the validator runs per record).
enum Timestamp {
    /// The current time, as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let seconds = Double(spec.tv_sec) + Double(spec.tv_nsec / 1000) / 1_000_000
        return iso8601(epochSeconds: seconds) ?? "1970-01-01T00:00:00Z"
    }

    /// `seconds` since 1970-01-01T00:00:00Z as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, or nil when out of range.
    static func iso8601(epochSeconds seconds: Double) -> String? {
        guard seconds.isFinite, seconds >= -62_135_596_800, seconds < 253_402_300_800 else { return nil }
        let whole = seconds.rounded(.down)
        var micros = Int(((seconds - whole) * 1_000_000).rounded())
        var total = Int(whole)
        if micros >= 1_000_000 { micros -= 1_000_000; total += 1 }
        return iso8601(seconds: total, fraction: micros, digits: 6)
    }

    /// Whole `seconds` since 1970-01-01T00:00:00Z and a `fraction` of `digits` digits after them, as
    /// `YYYY-MM-DDTHH:MM:SS[.fff]Z` (the fraction without its trailing zeros, none when it is 0).
    private static func iso8601(seconds: Int, fraction: Int, digits: Int) -> String {
        let days = Int((Double(seconds) / 86_400).rounded(.down))
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
            + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fraction > 0 {
            var written = pad(fraction, digits)
            while written.hasSuffix("0") { written.removeLast() }
            text += "." + written
        }
        return text + "Z"
    }

    /// Epoch seconds as written (`1733570000`, `-1.5`, `1.7335e9`, a string's digits) as
    /// `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`, read as a decimal, not a double: through a double,
    /// `253402300799.9999` came out as `…59.999908Z` and a tenth digit of a fraction moved the sixth. Up to
    /// nine digits of the fraction are kept, as a `created_at`'s are; nil when it is no such number or out of
    /// the years 0001 to 9999.
    static func iso8601(epochText text: String) -> String? {
        var bytes = Array(text.trimmingASCIIWhitespace().utf8)[...]
        var isNegative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            isNegative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var digits: [UInt8] = []
        var point: Int?
        while let byte = bytes.first, (byte >= 0x30 && byte <= 0x39) || (byte == UInt8(ascii: ".") && point == nil) {
            if byte == UInt8(ascii: ".") { point = digits.count } else { digits.append(byte - 0x30) }
            bytes = bytes.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var exponent = 0
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            var negativeExponent = false
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                negativeExponent = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard let first = bytes.first, first >= 0x30 && first <= 0x39 else { return nil }
            while let byte = bytes.first, byte >= 0x30 && byte <= 0x39 {
                exponent = min(exponent * 10 + Int(byte - 0x30), 1_000_000)
                bytes = bytes.dropFirst()
            }
            if negativeExponent { exponent = -exponent }
        }
        guard bytes.isEmpty else { return nil }
        // Where the point stands once the exponent moved it, and the whole seconds and nanoseconds either side.
        let shifted = (point ?? digits.count) + exponent
        let nanoPlaces = [100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1000, 100, 10, 1]
        var seconds = 0
        var nanos = 0
        for (index, digit) in digits.enumerated() {
            if index < shifted {
                seconds = seconds * 10 + Int(digit)
                // Past 10^12 seconds (the year 33658) is past any year a time can name.
                guard seconds < 1_000_000_000_000 else { return nil }
            } else if index - shifted < nanoPlaces.count {
                nanos += Int(digit) * nanoPlaces[index - shifted]
            }
        }
        if seconds > 0 {
            for _ in digits.count..<max(shifted, digits.count) {
                seconds *= 10
                guard seconds < 1_000_000_000_000 else { return nil }
            }
        }
        if isNegative && (seconds > 0 || nanos > 0) {
            seconds = -seconds - (nanos > 0 ? 1 : 0)
            if nanos > 0 { nanos = 1_000_000_000 - nanos }
        }
        guard seconds >= -62_135_596_800, seconds < 253_402_300_800 else { return nil }
        return iso8601(seconds: seconds, fraction: nanos, digits: 9)
    }

    /// Reads `YYYY-MM-DD`, optionally followed by `T` or a space, `HH:MM[:SS[.fff…]]` and `Z` or `±HH:MM`,
    /// and returns it normalized to UTC as `YYYY-MM-DDTHH:MM:SS[.fff]Z`; nil when it is not such a time.
    static func normalize(_ text: String) -> String? {
        if isCanonical(text) { return text }
        let b = Array(text.trimmingASCIIWhitespace().utf8)
        var i = 0
        func number(_ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var value = 0
            for k in i..<(i + count) {
                guard b[k] >= 0x30 && b[k] <= 0x39 else { return nil }
                value = value * 10 + Int(b[k] - 0x30)
            }
            i += count
            return value
        }
        func take(_ ascii: Character) -> Bool {
            guard i < b.count, b[i] == ascii.asciiValue else { return false }
            i += 1
            return true
        }
        guard let year = number(4), take("-"), let month = number(2), take("-"), let day = number(2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0, fraction = ""
        var offsetMinutes = 0
        if i < b.count {
            guard take("T") || take("t") || take(" "), let h = number(2), take(":"), let m = number(2) else { return nil }
            hour = h; minute = m
            if take(":") {
                guard let s = number(2) else { return nil }
                second = s
                if take(".") || take(",") {
                    let start = i
                    while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
                    guard i > start else { return nil }
                    fraction = String(decoding: b[start..<min(i, start + 9)], as: UTF8.self)
                    while fraction.hasSuffix("0") { fraction.removeLast() }
                }
            }
            guard hour < 24, minute < 60, second < 61 else { return nil }
            if take("Z") || take("z") {
            } else if i < b.count {
                let sign: Int
                if take("+") { sign = 1 } else if take("-") { sign = -1 } else { return nil }
                guard let oh = number(2), oh < 24 else { return nil }
                _ = take(":")
                guard let om = number(2), om < 60 else { return nil }
                offsetMinutes = sign * (oh * 60 + om)
            }
            guard i == b.count else { return nil }
            // A second 60 is a leap second, which ends a UTC day (23:59:60Z, or the same moment with an offset):
            // `12:00:60` at any minute was read as the next minute.
            if second == 60, ((hour * 60 + minute - offsetMinutes) % 1_440 + 1_440) % 1_440 != 1_439 { return nil }
        }
        var total = days(fromYear: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        total -= offsetMinutes * 60
        let dayCount = Int((Double(total) / 86_400).rounded(.down))
        let secondOfDay = total - dayCount * 86_400
        let (y, mo, d) = civil(fromDays: dayCount)
        guard y >= 1 && y <= 9999 else { return nil }
        var out = pad(y, 4) + "-" + pad(mo, 2) + "-" + pad(d, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if !fraction.isEmpty { out += "." + fraction }
        return out + "Z"
    }

    /// True for text already in the form `normalize` returns with whole seconds: `YYYY-MM-DDTHH:MM:SSZ`
    /// with a valid date and time (the common case, checked without allocating).
    static func isCanonical(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { isCanonical($0) } ?? false
    }

    /// `isCanonical` on the UTF-8 bytes of a time (a column read from the database).
    static func isCanonical(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        b.count == 20 && b[19] == 0x5A && isDateAndTime(b)
    }

    /// True for the bytes of a time in a form `normalize` returns: `YYYY-MM-DDTHH:MM:SS[.f…]Z` with
    /// 1 to 9 digits of fraction (checked without allocating; import accepts more forms).
    static func isNormalized(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var noDate = KnownDate()
        return isNormalized(b, knownDate: &noDate)
    }

    /// The first ten bytes (`YYYY-MM-DD`) of the last time found valid, so that the next time of the same
    /// day checks only its clock (an export checks the time of every fact it writes, in id order).
    struct KnownDate {
        var head: UInt64 = 0
        var tail: UInt16 = 0
    }

    /// `isNormalized`, skipping the date's checks when it is `knownDate`'s, which it updates.
    static func isNormalized(_ b: UnsafeBufferPointer<UInt8>, knownDate: inout KnownDate) -> Bool {
        guard b.count >= 20, b.count <= 30, b[b.count - 1] == 0x5A, let p = b.baseAddress else { return false }
        if b.count > 20 {
            guard b.count >= 22, b[19] == 0x2E, b[20..<(b.count - 1)].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
            else { return false }
        }
        let raw = UnsafeRawPointer(p)
        let head = raw.loadUnaligned(as: UInt64.self)
        let tail = raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        if head == knownDate.head, tail == knownDate.tail, knownDate.head != 0 {
            return isClock(p)
        }
        guard isDateAndTime(b) else { return false }
        knownDate = KnownDate(head: head, tail: tail)
        return true
    }

    /// `THH:MM:SS` at bytes 10 to 18, a valid time of day.
    @inline(__always)
    private static func isClock(_ p: UnsafePointer<UInt8>) -> Bool {
        guard p[10] == 0x54, p[13] == 0x3A, p[16] == 0x3A else { return false }
        @inline(__always) func two(_ at: Int) -> Int {
            let (high, low) = (p[at] &- 0x30, p[at + 1] &- 0x30)
            return high < 10 && low < 10 ? Int(high) * 10 + Int(low) : 99
        }
        return two(11) < 24 && two(14) < 60 && two(17) < 60
    }

    /// `YYYY-MM-DDTHH:MM:SS`, a valid date and time, in the first 19 bytes of `b` (straight-line: an
    /// export checks the time of every fact it writes).
    private static func isDateAndTime(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 19, let p = b.baseAddress, p[4] == 0x2D, p[7] == 0x2D, p[10] == 0x54, p[13] == 0x3A,
            p[16] == 0x3A
        else { return false }
        @inline(__always) func two(_ at: Int) -> Int {
            let (high, low) = (p[at] &- 0x30, p[at + 1] &- 0x30)
            return high < 10 && low < 10 ? Int(high) * 10 + Int(low) : -1
        }
        let century = two(0), yearOfCentury = two(2)
        let month = two(5), day = two(8), hour = two(11), minute = two(14), second = two(17)
        guard century >= 0, yearOfCentury >= 0, month >= 1, month <= 12, day >= 1, hour >= 0, hour < 24,
            minute >= 0, minute < 60, second >= 0, second < 60
        else { return false }
        let year = century * 100 + yearOfCentury
        return year >= 1 && day <= daysIn(month: month, year: year)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func days(fromYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

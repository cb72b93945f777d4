import Foundation
import Testing

/// The README and the pages under `docs/` link to each other by relative paths: every link must reach
/// a file that exists and, with a `#fragment`, a heading of that file; the README links every page.
@Suite struct DocumentationLinkTests {
    private static let root = packageRootURL()

    /// The Markdown files of the documentation, relative to the package root.
    private static var pages: [String] {
        let folder = root.appendingPathComponent("docs").path
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    /// The lines of `text` outside fenced code blocks.
    private func prose(_ text: String) -> [Substring] {
        var inCode = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.hasPrefix("```") { inCode.toggle(); return false }
            return !inCode
        }
    }

    /// The anchor a heading gets: lowercased, punctuation but `-` and `_` dropped, spaces as `-`.
    private func anchor(_ heading: Substring) -> String {
        String(heading.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
            .unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || " -_".unicodeScalars.contains($0) }
            .map { $0 == " " ? "-" : Character($0) })
    }

    /// Every relative link target of `page` (web links left out).
    private func links(_ text: String) throws -> [String] {
        let link = try Regex(#"\]\(([^)\s]+)\)"#)
        return prose(text).flatMap { line in
            String(line).matches(of: link).compactMap { $0.output[1].substring.map(String.init) }
        }.filter { !$0.contains("://") && !$0.hasPrefix("mailto:") }
    }

    @Test func everyLinkReachesAFileAndAHeading() throws {
        try #require(Self.pages.count > 1, "no pages under docs/")
        for page in Self.pages {
            let url = Self.root.appendingPathComponent(page)
            let text = try String(contentsOf: url, encoding: .utf8)
            for target in try links(text) {
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let folder = url.deletingLastPathComponent()
                let file = parts[0].isEmpty ? url : folder.appendingPathComponent(String(parts[0]))
                #expect(FileManager.default.fileExists(atPath: file.path), "\(page): \(target) does not exist")
                guard parts.count == 2, let linked = try? String(contentsOf: file, encoding: .utf8) else { continue }
                let anchors = prose(linked).filter { $0.hasPrefix("#") }.map(anchor)
                #expect(anchors.contains(String(parts[1])), "\(page): \(target) names no heading of its file")
            }
        }
    }

    @Test func theReadmeLinksEveryPage() throws {
        let readme = try links(String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8))
        for page in Self.pages.dropFirst() {
            #expect(readme.contains { $0 == page || $0.hasPrefix(page + "#") }, "README.md does not link \(page)")
        }
    }
}

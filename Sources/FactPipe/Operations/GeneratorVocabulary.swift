/// The names the generator draws from: about 1,000 predicates and 200,000 entities, shaped like a
/// real knowledge base's, built once per process from fixed word lists and a fixed seed.
///
/// The vocabulary does not depend on the generator's seed, so every run names things the same way
/// and only the choice and order of facts change with the seed.
final class GeneratorVocabulary: Sendable {
    /// The vocabulary every generator shares.
    static let shared = GeneratorVocabulary(predicateCount: 1_000, entityCount: 200_000)

    /// Predicate names, most frequent first.
    let predicates: [String]
    /// Entity names; the first `popularEntityCount` are drawn far more often than the rest.
    let entities: [String]
    /// How many leading entities form the popular set.
    let popularEntityCount: Int
    /// Cumulative Zipf-like weights of `predicates`, rising to 1.
    private let predicateCumulative: [Double]

    init(predicateCount: Int, entityCount: Int) {
        predicates = Self.makePredicates(count: predicateCount)
        entities = Self.makeEntities(count: entityCount)
        popularEntityCount = min(entities.count, 2_000)
        // Zipf–Mandelbrot weights 1 / (rank + 2): the top predicate gets about 7%, the last ~0.01%.
        var cumulative: [Double] = []
        cumulative.reserveCapacity(predicates.count)
        var total = 0.0
        for rank in 0..<predicates.count {
            total += 1.0 / Double(rank + 2)
            cumulative.append(total)
        }
        predicateCumulative = cumulative.map { $0 / total }
    }

    /// The index of a predicate for a uniform `unit` in `[0, 1)`, following the skewed weights.
    func predicateIndex(forUnit unit: Double) -> Int {
        var low = 0
        var high = predicateCumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if predicateCumulative[middle] > unit { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Hand-written predicates first, then `IsCausedBy`-style ones, some numbered (`WasFoundedIn17`).
    private static func makePredicates(count: Int) -> [String] {
        var names: [String] = []
        var seen: Set<String> = []
        for name in GeneratorWords.knownPredicates where names.count < count && seen.insert(name).inserted {
            names.append(name)
        }
        var random = Xoshiro256(seed: 0x5052_4544)
        var candidates: [String] = []
        for prefix in ["Is", "Was"] {
            for verb in GeneratorWords.predicateVerbs {
                for preposition in GeneratorWords.predicatePrepositions {
                    candidates.append(prefix + verb + preposition)
                }
            }
        }
        for index in candidates.indices.reversed() {
            candidates.swapAt(index, random.next(below: index + 1))
        }
        var counter = 0
        while names.count < count {
            var name = candidates[counter % candidates.count]
            if counter >= candidates.count || random.chance(0.15) {
                name += String(random.next(in: 1...99))
            }
            counter += 1
            if seen.insert(name).inserted { names.append(name) }
        }
        return names
    }

    /// Hand-written entities first, then two-word CamelCase names in a few house styles.
    private static func makeEntities(count: Int) -> [String] {
        let known = GeneratorWords.knownEntities
        let parts = GeneratorWords.entityParts
        let pairCount = parts.count * parts.count
        precondition(pairCount >= count, "GeneratorWords.entityParts is too short for \(count) entities")
        var names = Array(known.prefix(count))
        names.reserveCapacity(count)
        var generated = 0
        while names.count < count {
            // A fixed multiplier coprime with pairCount walks every pair once, in a scrambled order.
            let pair = (generated &* 104_729 &+ 7) % pairCount
            let first = parts[pair / parts.count]
            let second = pair / parts.count == pair % parts.count ? "Prime" : parts[pair % parts.count]
            var mixer = Xoshiro256(seed: UInt64(generated))
            let style = mixer.next(below: 100)
            switch style {
            case 0..<80: names.append(first + second)
            case 80..<86: names.append(first + "_" + second)
            case 86..<90: names.append(first.lowercased() + "_" + second.lowercased())
            case 90..<95: names.append(first + second + String(mixer.next(in: 1...99)))
            case 95..<98: names.append(first + "-" + second)
            default: names.append(first + String(mixer.next(in: 100...9_999)))
            }
            generated += 1
        }
        return names
    }
}

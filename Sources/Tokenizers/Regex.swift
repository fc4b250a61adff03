import Foundation

/// A small backtracking regular-expression engine for the split patterns of byte-level BPE
/// tokenizers (GPT-2, Qwen2, LLaMA-3 style). Semantics are leftmost-first (Perl / Oniguruma, which
/// the Rust library uses): alternatives are tried in order, quantifiers are greedy unless `?`-lazy.
///
/// Supported syntax: literals and escapes (`\n \r \t \f \v \0 \xHH \x{H..} \uHHHH` and escaped
/// punctuation), `.`, classes `[...]` / `[^...]` with ranges, `\s \S \d \D \w \W`,
/// `\p{..}` / `\P{..}` / `\pL` for `L N P S Z M C` and their two-letter general categories,
/// groups `(...)`, `(?:...)`, `(?i:...)`, `(?i)`, `(?<name>...)`, lookahead `(?=...)` / `(?!...)`,
/// quantifiers `* + ? {n} {n,} {n,m}` with optional lazy `?`, anchors `^ $`. Anything else
/// (lookbehind, backreferences, possessive quantifiers, atomic groups) is rejected at compile time.
/// Matching works on code points (like Rust `char`s).
struct SplitRegex: Sendable {
    /// Why a pattern could not be compiled.
    struct CompileError: Error { let message: String }

    enum Property: Sendable {
        case letter, number, whitespace, digit, word, any
        case category(Set<UInt8>)  // indices into `Property.categoryCodes`
    }

    struct ClassItem: Sendable {
        var lo: UInt32 = 0
        var hi: UInt32 = 0
        var property: Property? = nil
        var negatedProperty = false
    }

    struct CharClass: Sendable {
        var items: [ClassItem]
        var negated: Bool
    }

    enum Inst: Sendable {
        case char(UInt32, caseInsensitive: Bool)
        case cls(Int, caseInsensitive: Bool)  // index into classes
        case anyButNewline
        case split(Int, Int)  // try the first target, then the second
        case jmp(Int)
        case lineStart, lineEnd  // ^ and $ (whole-text anchors, no multiline)
        case look(start: Int, negate: Bool)  // lookahead sub-program starting at `start`
        case match
    }

    let program: [Inst]
    let classes: [CharClass]
    let source: String

    /// Largest count accepted in `{n,m}` (keeps compiled programs small).
    static let maxRepetition = 1000
    /// Deepest group nesting accepted (the parser is recursive).
    static let maxNesting = 100
    /// Largest dense memo (program length x (text length + 1)); above it a hash set is used.
    static let maxDenseMemoCells = 4_000_000

    init(_ pattern: String) throws {
        var p = Parser(scalars: pattern.unicodeScalars.map { $0.value })
        let ast = try p.parseAlternation(caseInsensitive: false)
        if p.pos != p.scalars.count { throw CompileError(message: "unbalanced ')' at \(p.pos)") }
        var c = Compiler(classes: p.classes)
        c.emit(ast)
        c.program.append(.match)
        // Lookahead sub-programs are compiled after the main one.
        var k = 0
        while k < c.pendingLooks.count {
            let (index, node) = c.pendingLooks[k]
            let start = c.program.count
            c.emit(node)
            c.program.append(.match)
            if case .look(_, let negate) = c.program[index] { c.program[index] = .look(start: start, negate: negate) }
            k += 1
        }
        program = c.program
        classes = c.classes
        source = pattern
    }

    // MARK: - Parsing

    indirect enum Node {
        case char(UInt32, Bool)
        case cls(Int, Bool)
        case any
        case concat([Node])
        case alt([Node])
        case rep(Node, min: Int, max: Int?, greedy: Bool)
        case look(Node, negate: Bool)
        case lineStart, lineEnd
        case empty
    }

    struct Parser {
        let scalars: [UInt32]
        var pos = 0
        var depth = 0
        var classes: [CharClass] = []

        init(scalars: [UInt32]) { self.scalars = scalars }

        func fail(_ m: String) -> CompileError { CompileError(message: "\(m) at position \(pos)") }
        var atEnd: Bool { pos >= scalars.count }
        func peek(_ o: Int = 0) -> UInt32? { pos + o < scalars.count ? scalars[pos + o] : nil }

        mutating func parseAlternation(caseInsensitive ci: Bool) throws -> Node {
            var ci = ci
            var branches: [Node] = [try parseConcat(caseInsensitive: &ci)]
            while peek() == 0x7C {  // |
                pos += 1
                branches.append(try parseConcat(caseInsensitive: &ci))
            }
            return branches.count == 1 ? branches[0] : .alt(branches)
        }

        mutating func parseConcat(caseInsensitive ci: inout Bool) throws -> Node {
            var items: [Node] = []
            while let c = peek(), c != 0x7C, c != 0x29 {  // | )
                if c == 0x28, peek(1) == 0x3F, peek(2) == 0x69, peek(3) == 0x29 {  // (?i)
                    pos += 4
                    ci = true
                    continue
                }
                var atom = try parseAtom(caseInsensitive: ci)
                atom = try parseQuantifier(atom)
                items.append(atom)
            }
            return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .concat(items))
        }

        mutating func parseNumber() -> Int? {
            var v = 0
            var any = false
            while let c = peek(), c >= 0x30, c <= 0x39 {
                v = v * 10 + Int(c - 0x30)
                pos += 1
                any = true
                if v > SplitRegex.maxRepetition { return nil }
            }
            return any ? v : nil
        }

        mutating func parseQuantifier(_ atom: Node) throws -> Node {
            guard let c = peek() else { return atom }
            var lo = 0
            var hi: Int? = nil
            switch c {
            case 0x2A: lo = 0; hi = nil; pos += 1  // *
            case 0x2B: lo = 1; hi = nil; pos += 1  // +
            case 0x3F: lo = 0; hi = 1; pos += 1  // ?
            case 0x7B:  // {
                let save = pos
                pos += 1
                guard let n = parseNumber() else { pos = save; return atom }
                lo = n
                hi = n
                if peek() == 0x2C {  // ,
                    pos += 1
                    hi = parseNumber()
                }
                guard peek() == 0x7D else { throw fail("malformed or too large counted repetition (limit \(SplitRegex.maxRepetition))") }
                pos += 1
                if let h = hi, h < lo { throw fail("repetition {\(lo),\(h)} has max < min") }
            default:
                return atom
            }
            var greedy = true
            if peek() == 0x3F { greedy = false; pos += 1 } else if peek() == 0x2B { throw fail("possessive quantifiers are not supported") }
            if case .look = atom { throw fail("quantified lookaround is not supported") }
            return .rep(atom, min: lo, max: hi, greedy: greedy)
        }

        mutating func parseAtom(caseInsensitive ci: Bool) throws -> Node {
            guard let c = peek() else { throw fail("unexpected end of pattern") }
            switch c {
            case 0x28:  // (
                pos += 1
                depth += 1
                defer { depth -= 1 }
                if depth > SplitRegex.maxNesting { throw fail("groups nested deeper than \(SplitRegex.maxNesting)") }
                var innerCI = ci
                if peek() == 0x3F {  // ?
                    pos += 1
                    switch peek() {
                    case 0x3A: pos += 1  // (?:
                    case 0x3D, 0x21:  // (?= (?!
                        let negate = peek() == 0x21
                        pos += 1
                        let inner = try parseAlternation(caseInsensitive: ci)
                        guard peek() == 0x29 else { throw fail("missing ')'") }
                        pos += 1
                        return .look(inner, negate: negate)
                    case 0x3C:  // (?<name>  or lookbehind
                        if peek(1) == 0x3D || peek(1) == 0x21 { throw fail("lookbehind is not supported") }
                        pos += 1
                        while let x = peek(), x != 0x3E { pos += 1 }
                        guard peek() == 0x3E else { throw fail("unterminated group name") }
                        pos += 1
                    case 0x50:  // (?P<name>
                        pos += 1
                        guard peek() == 0x3C else { throw fail("unsupported group syntax") }
                        while let x = peek(), x != 0x3E { pos += 1 }
                        guard peek() == 0x3E else { throw fail("unterminated group name") }
                        pos += 1
                    default:
                        // Flag groups: (?i: ... ) / (?-i: ... )
                        var on = true
                        var sawFlag = false
                        while let f = peek(), f != 0x3A, f != 0x29 {
                            if f == 0x2D { on = false } else if f == 0x69 { innerCI = on; sawFlag = true } else {
                                throw fail("unsupported group flag '\(Character(Unicode.Scalar(f) ?? "?"))'")
                            }
                            pos += 1
                        }
                        guard sawFlag, peek() == 0x3A else { throw fail("unsupported group syntax") }
                        pos += 1
                    }
                }
                let inner = try parseAlternation(caseInsensitive: innerCI)
                guard peek() == 0x29 else { throw fail("missing ')'") }
                pos += 1
                return inner
            case 0x5B:  // [
                return .cls(try parseClass(), ci)
            case 0x2E:  // .
                pos += 1
                return .any
            case 0x5E: pos += 1; return .lineStart
            case 0x24: pos += 1; return .lineEnd
            case 0x5C:  // backslash
                pos += 1
                if let item = try parseEscapeClass() {
                    classes.append(CharClass(items: [item], negated: false))
                    return .cls(classes.count - 1, ci)
                }
                return .char(try parseEscapeLiteral(), ci)
            case 0x2A, 0x2B, 0x3F, 0x7B:
                throw fail("quantifier without a target")
            default:
                pos += 1
                return .char(c, ci)
            }
        }

        /// After a backslash: a class escape (\s \d \w \p{..} and negations), or nil.
        mutating func parseEscapeClass() throws -> ClassItem? {
            guard let c = peek() else { throw fail("trailing backslash") }
            func item(_ p: Property, _ neg: Bool) -> ClassItem { ClassItem(property: p, negatedProperty: neg) }
            switch c {
            case 0x73: pos += 1; return item(.whitespace, false)  // s
            case 0x53: pos += 1; return item(.whitespace, true)  // S
            case 0x64: pos += 1; return item(.digit, false)  // d
            case 0x44: pos += 1; return item(.digit, true)  // D
            case 0x77: pos += 1; return item(.word, false)  // w
            case 0x57: pos += 1; return item(.word, true)  // W
            case 0x70, 0x50:  // p P
                let neg = c == 0x50
                pos += 1
                var name: [UInt32] = []
                if peek() == 0x7B {
                    pos += 1
                    while let x = peek(), x != 0x7D { name.append(x); pos += 1 }
                    guard peek() == 0x7D else { throw fail("unterminated \\p{") }
                    pos += 1
                } else if let x = peek() {
                    name = [x]
                    pos += 1
                }
                let n = String(String.UnicodeScalarView(name.compactMap(Unicode.Scalar.init)))
                guard let prop = Property.named(n) else { throw fail("unsupported Unicode property \(n)") }
                return item(prop, neg)
            default:
                return nil
            }
        }

        /// After a backslash: a single literal code point.
        mutating func parseEscapeLiteral() throws -> UInt32 {
            guard let c = peek() else { throw fail("trailing backslash") }
            pos += 1
            switch c {
            case 0x6E: return 0x0A  // n
            case 0x72: return 0x0D  // r
            case 0x74: return 0x09  // t
            case 0x66: return 0x0C  // f
            case 0x76: return 0x0B  // v
            case 0x30: return 0x00  // 0
            case 0x61: return 0x07  // a
            case 0x65: return 0x1B  // e
            case 0x78, 0x75:  // x / u
                var digits: [UInt32] = []
                if peek() == 0x7B {
                    pos += 1
                    while let x = peek(), x != 0x7D { digits.append(x); pos += 1 }
                    guard peek() == 0x7D else { throw fail("unterminated hex escape") }
                    pos += 1
                } else {
                    let count = c == 0x78 ? 2 : 4
                    for _ in 0..<count {
                        guard let x = peek() else { throw fail("short hex escape") }
                        digits.append(x)
                        pos += 1
                    }
                }
                let s = String(String.UnicodeScalarView(digits.compactMap(Unicode.Scalar.init)))
                guard !digits.isEmpty, let v = UInt32(s, radix: 16), Unicode.Scalar(v) != nil else { throw fail("bad hex escape") }
                return v
            default:
                let isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                if isAlnum { throw fail("unsupported escape \\\(Character(Unicode.Scalar(c) ?? "?"))") }
                return c
            }
        }

        mutating func parseClass() throws -> Int {
            pos += 1  // [
            var negated = false
            if peek() == 0x5E { negated = true; pos += 1 }
            var items: [ClassItem] = []
            var first = true
            while true {
                guard let c = peek() else { throw fail("unterminated character class") }
                if c == 0x5D && !first { pos += 1; break }  // ]
                first = false
                if c == 0x5B, peek(1) == 0x3A { throw fail("POSIX classes are not supported") }
                if c == 0x5B { throw fail("nested classes are not supported") }
                var lo: UInt32
                if c == 0x5C {
                    pos += 1
                    if let item = try parseEscapeClass() { items.append(item); continue }
                    lo = try parseEscapeLiteral()
                } else {
                    lo = c
                    pos += 1
                }
                if peek() == 0x2D, let n = peek(1), n != 0x5D {  // range a-b
                    pos += 1
                    var hi: UInt32
                    if n == 0x5C {
                        pos += 1
                        if try parseEscapeClass() != nil { throw fail("class escape cannot end a range") }
                        hi = try parseEscapeLiteral()
                    } else {
                        hi = n
                        pos += 1
                    }
                    guard hi >= lo else { throw fail("invalid class range") }
                    items.append(ClassItem(lo: lo, hi: hi))
                } else {
                    items.append(ClassItem(lo: lo, hi: lo))
                }
            }
            classes.append(CharClass(items: items, negated: negated))
            return classes.count - 1
        }
    }

    // MARK: - Compiling

    struct Compiler {
        var program: [Inst] = []
        var classes: [CharClass]
        var pendingLooks: [(Int, Node)] = []

        init(classes: [CharClass]) { self.classes = classes }

        mutating func emit(_ n: Node) {
            switch n {
            case .char(let c, let ci): program.append(.char(c, caseInsensitive: ci))
            case .cls(let i, let ci): program.append(.cls(i, caseInsensitive: ci))
            case .any: program.append(.anyButNewline)
            case .lineStart: program.append(.lineStart)
            case .lineEnd: program.append(.lineEnd)
            case .empty: break
            case .concat(let items): for i in items { emit(i) }
            case .alt(let branches):
                var jumps: [Int] = []
                for (k, b) in branches.enumerated() {
                    if k < branches.count - 1 {
                        let split = program.count
                        program.append(.split(0, 0))
                        emit(b)
                        jumps.append(program.count)
                        program.append(.jmp(0))
                        program[split] = .split(split + 1, program.count)
                    } else {
                        emit(b)
                    }
                }
                for j in jumps { program[j] = .jmp(program.count) }
            case .look(let inner, let negate):
                pendingLooks.append((program.count, inner))
                program.append(.look(start: -1, negate: negate))
            case .rep(let inner, let lo, let hi, let greedy):
                for _ in 0..<lo { emit(inner) }
                if let hi {
                    // (inner (inner ...)?)? nested, hi - lo levels
                    var holes: [Int] = []
                    for _ in lo..<hi {
                        holes.append(program.count)
                        program.append(.split(0, 0))
                        emit(inner)
                    }
                    let end = program.count
                    for h in holes { program[h] = greedy ? .split(h + 1, end) : .split(end, h + 1) }
                } else {
                    let loop = program.count
                    program.append(.split(0, 0))
                    emit(inner)
                    program.append(.jmp(loop))
                    let end = program.count
                    program[loop] = greedy ? .split(loop + 1, end) : .split(end, loop + 1)
                }
            }
        }
    }

    // MARK: - Matching

    /// Non-overlapping matches in `text` (code points), as code-point ranges, scanning left to
    /// right; after an empty match the scan moves on by one code point.
    func matches(in text: [UInt32]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var m = Matcher(regex: self, text: text)
        var start = 0
        while start <= text.count {
            if let end = m.run(pc: 0, at: start) {
                out.append(start..<end)
                start = end > start ? end : start + 1
            } else {
                start += 1
            }
        }
        return out
    }

    func classMatches(_ k: Int, _ c: UInt32, caseInsensitive: Bool) -> Bool {
        let cls = classes[k]
        func test(_ v: UInt32) -> Bool {
            for it in cls.items {
                if let p = it.property {
                    if p.contains(v) != it.negatedProperty { return true }
                } else if v >= it.lo && v <= it.hi {
                    return true
                }
            }
            return false
        }
        var hit = test(c)
        if !hit && caseInsensitive {
            for v in SplitRegex.caseVariants(c) where test(v) { hit = true; break }
        }
        return hit != cls.negated
    }

    /// Other code points equal to `c` under simple case folding (enough for `(?i:'s|'t|...)`).
    static func caseVariants(_ c: UInt32) -> [UInt32] {
        if c < 0x80 {
            if c >= 0x41 && c <= 0x5A { return [c + 0x20] + (c == 0x53 ? [0x17F] : []) + (c == 0x4B ? [0x212A] : []) }
            if c >= 0x61 && c <= 0x7A { return [c - 0x20] + (c == 0x73 ? [0x17F] : []) + (c == 0x6B ? [0x212A] : []) }
            return []
        }
        if c == 0x17F { return [0x73, 0x53] }
        if c == 0x212A { return [0x6B, 0x4B] }
        guard let s = Unicode.Scalar(c) else { return [] }
        var out: [UInt32] = []
        for m in [s.properties.lowercaseMapping, s.properties.uppercaseMapping, s.properties.titlecaseMapping] {
            let u = m.unicodeScalars
            if u.count == 1, let v = u.first?.value, v != c, !out.contains(v) { out.append(v) }
        }
        return out
    }

    /// Visited (pc, position) states of one search: dense generation stamps when small enough,
    /// otherwise a hash set.
    struct Visited {
        /// [program.count, text.count + 1] generation stamps (empty when sparse)
        var dense: [UInt32]
        var generation: UInt32 = 1
        var sparse: Set<Int> = []

        init(cells: Int, dense useDense: Bool) {
            dense = useDense ? [UInt32](repeating: 0, count: cells) : []
        }

        /// Starts a new search (forgets all states).
        mutating func reset() {
            if dense.isEmpty { sparse.removeAll(keepingCapacity: true); return }
            generation &+= 1
            if generation == 0 {
                for i in dense.indices { dense[i] = 0 }
                generation = 1
            }
        }

        /// Marks `cell`; returns whether it was already marked in this search.
        @inline(__always)
        mutating func testAndSet(_ cell: Int) -> Bool {
            if dense.isEmpty { return !sparse.insert(cell).inserted }
            if dense[cell] == generation { return true }
            dense[cell] = generation
            return false
        }
    }

    /// Backtracking executor with a (pc, position) memo, which is exact for this capture-free
    /// language: a state that was visited before and did not lead to a match never will.
    struct Matcher {
        let regex: SplitRegex
        let text: [UInt32]
        let width: Int
        var visited: Visited

        init(regex: SplitRegex, text: [UInt32]) {
            self.regex = regex
            self.text = text
            width = text.count + 1
            let cells = regex.program.count * width
            visited = Visited(cells: cells, dense: cells <= SplitRegex.maxDenseMemoCells)
        }

        /// Reused backtracking stack of (pc, position).
        var stack: [(Int, Int)] = []

        /// End of the leftmost-first match of the program at `startPC` beginning at `start`.
        mutating func run(pc startPC: Int, at start: Int) -> Int? {
            visited.reset()
            return Matcher.search(regex: regex, text: text, width: width, pc: startPC, at: start,
                                  visited: &visited, stack: &stack)
        }

        static func search(regex: SplitRegex, text: [UInt32], width: Int, pc startPC: Int, at start: Int,
                           visited: inout Visited, stack: inout [(Int, Int)]) -> Int? {
            let base = stack.count
            defer { stack.removeSubrange(base...) }
            stack.append((startPC, start))
            let prog = regex.program
            let n = text.count
            while stack.count > base {
                let (pc0, pos0) = stack.removeLast()
                var pc = pc0
                var pos = pos0
                while true {
                    if visited.testAndSet(pc * width + pos) { break }
                    switch prog[pc] {
                    case .match:
                        return pos
                    case .char(let c, let ci):
                        guard pos < n else { break }
                        let t = text[pos]
                        if t == c || (ci && SplitRegex.caseVariants(c).contains(t)) { pc += 1; pos += 1; continue }
                    case .cls(let k, let ci):
                        guard pos < n else { break }
                        if regex.classMatches(k, text[pos], caseInsensitive: ci) { pc += 1; pos += 1; continue }
                    case .anyButNewline:
                        guard pos < n else { break }
                        if text[pos] != 0x0A { pc += 1; pos += 1; continue }
                    case .split(let a, let b):
                        stack.append((b, pos))
                        pc = a
                        continue
                    case .jmp(let a):
                        pc = a
                        continue
                    case .lineStart:
                        if pos == 0 { pc += 1; continue }
                    case .lineEnd:
                        if pos == n { pc += 1; continue }
                    case .look(let s, let negate):
                        // Lookahead bodies are small: search them with their own sparse memo.
                        var local = Visited(cells: 0, dense: false)
                        let found = search(regex: regex, text: text, width: width, pc: s, at: pos,
                                           visited: &local, stack: &stack) != nil
                        if found != negate { pc += 1; continue }
                    }
                    break  // this path failed
                }
            }
            return nil
        }
    }
}

extension SplitRegex.Property {
    /// General-category codes in the order of `Unicode.GeneralCategory` mapping below.
    static let categoryCodes: [String] = [
        "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
        "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn",
    ]

    static func named(_ raw: String) -> SplitRegex.Property? {
        let name = raw.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: " ", with: "").lowercased()
        switch name {
        case "l", "letter": return .letter
        case "n", "number": return .number
        case "any": return .any
        case "whitespace", "whitespaceproperty": return .whitespace
        default: break
        }
        let groups: [String: String] = ["m": "M", "mark": "M", "p": "P", "punctuation": "P", "s": "S", "symbol": "S",
                                        "z": "Z", "separator": "Z", "c": "C", "other": "C"]
        if let g = groups[name] {
            return .category(Set(categoryCodes.indices.filter { categoryCodes[$0].hasPrefix(g) }.map { UInt8($0) }))
        }
        if let i = categoryCodes.firstIndex(where: { $0.lowercased() == name }) { return .category([UInt8(i)]) }
        return nil
    }

    static func categoryIndex(_ v: UInt32) -> UInt8 {
        guard let s = Unicode.Scalar(v) else { return 27 }  // surrogate code points
        switch s.properties.generalCategory {
        case .uppercaseLetter: return 0
        case .lowercaseLetter: return 1
        case .titlecaseLetter: return 2
        case .modifierLetter: return 3
        case .otherLetter: return 4
        case .nonspacingMark: return 5
        case .spacingMark: return 6
        case .enclosingMark: return 7
        case .decimalNumber: return 8
        case .letterNumber: return 9
        case .otherNumber: return 10
        case .connectorPunctuation: return 11
        case .dashPunctuation: return 12
        case .openPunctuation: return 13
        case .closePunctuation: return 14
        case .initialPunctuation: return 15
        case .finalPunctuation: return 16
        case .otherPunctuation: return 17
        case .mathSymbol: return 18
        case .currencySymbol: return 19
        case .modifierSymbol: return 20
        case .otherSymbol: return 21
        case .spaceSeparator: return 22
        case .lineSeparator: return 23
        case .paragraphSeparator: return 24
        case .control: return 25
        case .format: return 26
        case .surrogate: return 27
        case .privateUse: return 28
        case .unassigned: return 29
        @unknown default: return 29
        }
    }

    func contains(_ v: UInt32) -> Bool {
        switch self {
        case .any: return true
        case .whitespace: return UTF8Text.isWhitespace(v)
        case .word: return UTF8Text.isWordCharacter(v)
        case .letter:
            if v < 0x80 { return (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) }
            return SplitRegex.Property.categoryIndex(v) <= 4
        case .number:
            if v < 0x80 { return v >= 0x30 && v <= 0x39 }
            let k = SplitRegex.Property.categoryIndex(v)
            return k >= 8 && k <= 10
        case .digit:
            if v < 0x80 { return v >= 0x30 && v <= 0x39 }
            return SplitRegex.Property.categoryIndex(v) == 8
        case .category(let set):
            return set.contains(SplitRegex.Property.categoryIndex(v))
        }
    }
}

/// Maps the object names of POPE / AMBER questions ("Is there a <name> in the image?") to COCO
/// category names.
///
/// Resolution order (the first that matches a category of the file wins):
/// 1. the name itself, lower-cased, trimmed, with a leading article (`a`, `an`, `the`) removed and
///    inner whitespace collapsed (POPE uses the COCO names verbatim: `dining table`, `tv`,
///    `cell phone`, `hair drier`, `skis`, ...);
/// 2. the synonym table below;
/// 3. the singular of the last word (irregular table, then `-ies` -> `-y`, `-ves` -> `-f`/`-fe`,
///    `-ches/-shes/-xes/-sses/-zes/-oes/-uses` -> drop `es`, else drop a final `s` but not `ss`;
///    a one-word name in the irregular table gets no suffix rules), then steps 1-2 again on it;
/// 4. for a name of several words, steps 1-3 on its last word alone (a colour or other modifier
///    before the noun: the shapes benchmark's "red circle" is category `circle`).
///
/// | object name(s) | COCO category |
/// |---|---|
/// | people, man, men, woman, women, child, children, kid, boy, girl, guy, lady, human, pedestrian | person |
/// | bike | bicycle |
/// | motorbike, motor bike, scooter | motorcycle |
/// | plane, aeroplane, aircraft, jet | airplane |
/// | ship | boat |
/// | traffic signal, stoplight, stop light | traffic light |
/// | hydrant | fire hydrant |
/// | parking-meter | parking meter |
/// | puppy | dog |
/// | kitten, kitty | cat |
/// | pony | horse |
/// | lamb | sheep |
/// | cattle, calf, bull, ox | cow |
/// | rucksack | backpack |
/// | parasol | umbrella |
/// | purse | handbag |
/// | necktie | tie |
/// | luggage | suitcase |
/// | flying disc | frisbee |
/// | ski | skis |
/// | ball, soccer ball, football, tennis ball, baseball, basketball | sports ball |
/// | racket, racquet, tennis racquet | tennis racket |
/// | glass, wineglass | wine glass |
/// | mug, coffee cup, teacup | cup |
/// | doughnut | donut |
/// | hotdog | hot dog |
/// | sofa | couch |
/// | plant, houseplant, house plant, potted-plant, flower pot, flowerpot | potted plant |
/// | table, dinner table, kitchen table | dining table |
/// | television, tv set, tv monitor, monitor, tvmonitor | tv |
/// | laptop computer, notebook computer | laptop |
/// | computer mouse | mouse |
/// | remote control, controller | remote |
/// | computer keyboard | keyboard |
/// | phone, cellphone, mobile phone, smartphone, telephone | cell phone |
/// | microwave oven | microwave |
/// | fridge | refrigerator |
/// | teddy, teddybear, stuffed animal | teddy bear |
/// | hair dryer, hairdryer, blow dryer | hair drier |
/// | scissor | scissors |
///
/// Deliberately not mapped (ambiguous): `bat` (animal or baseball bat), `glasses` (eyewear),
/// `bag` (handbag, backpack or suitcase). Names with no COCO category (AMBER has many, e.g.
/// `tree`, `sky`) resolve to nil: there is no mask for them.
public enum ObjectNames {
    /// Synonym -> COCO category name.
    public static let synonyms: [String: String] = {
        var s: [String: String] = [:]
        func add(_ names: [String], _ coco: String) { for n in names { s[n] = coco } }
        add(["people", "man", "men", "woman", "women", "child", "children", "kid", "boy", "girl", "guy", "lady",
             "human", "pedestrian"], "person")
        add(["bike"], "bicycle")
        add(["motorbike", "motor bike", "scooter"], "motorcycle")
        add(["plane", "aeroplane", "aircraft", "jet"], "airplane")
        add(["ship"], "boat")
        add(["traffic signal", "stoplight", "stop light"], "traffic light")
        add(["hydrant"], "fire hydrant")
        add(["parking-meter"], "parking meter")
        add(["puppy"], "dog")
        add(["kitten", "kitty"], "cat")
        add(["pony"], "horse")
        add(["lamb"], "sheep")
        add(["cattle", "calf", "bull", "ox"], "cow")
        add(["rucksack"], "backpack")
        add(["parasol"], "umbrella")
        add(["purse"], "handbag")
        add(["necktie"], "tie")
        add(["luggage"], "suitcase")
        add(["flying disc"], "frisbee")
        add(["ski"], "skis")
        add(["ball", "soccer ball", "football", "tennis ball", "baseball", "basketball"], "sports ball")
        add(["racket", "racquet", "tennis racquet"], "tennis racket")
        add(["glass", "wineglass"], "wine glass")
        add(["mug", "coffee cup", "teacup"], "cup")
        add(["doughnut"], "donut")
        add(["hotdog"], "hot dog")
        add(["sofa"], "couch")
        add(["plant", "houseplant", "house plant", "potted-plant", "flower pot", "flowerpot"], "potted plant")
        add(["table", "dinner table", "kitchen table"], "dining table")
        add(["television", "tv set", "tv monitor", "monitor", "tvmonitor"], "tv")
        add(["laptop computer", "notebook computer"], "laptop")
        add(["computer mouse"], "mouse")
        add(["remote control", "controller"], "remote")
        add(["computer keyboard"], "keyboard")
        add(["phone", "cellphone", "mobile phone", "smartphone", "telephone"], "cell phone")
        add(["microwave oven"], "microwave")
        add(["fridge"], "refrigerator")
        add(["teddy", "teddybear", "stuffed animal"], "teddy bear")
        add(["hair dryer", "hairdryer", "blow dryer"], "hair drier")
        add(["scissor"], "scissors")
        return s
    }()

    /// Irregular plural -> singular (for the last word of a name).
    public static let irregularPlurals: [String: String] = [
        "people": "person", "men": "man", "women": "woman", "children": "child", "mice": "mouse",
        "knives": "knife", "leaves": "leaf", "wolves": "wolf", "shelves": "shelf", "geese": "goose",
        "teeth": "tooth", "feet": "foot", "oxen": "ox", "calves": "calf", "sheep": "sheep",
        "buses": "bus", "skis": "skis", "scissors": "scissors", "glasses": "glasses", "dishes": "dish",
        "ponies": "pony", "puppies": "puppy", "kitties": "kitty", "ladies": "lady", "benches": "bench",
        "sandwiches": "sandwich", "couches": "couch", "boxes": "box", "tomatoes": "tomato",
        "potatoes": "potato", "cattle": "cattle",
    ]

    /// Lower-cases, trims, collapses whitespace and drops a leading article.
    public static func normalize(_ name: String) -> String {
        let words = name.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        var w = words.map(String.init)
        if w.count > 1, ["a", "an", "the"].contains(w[0]) { w.removeFirst() }
        return w.joined(separator: " ")
    }

    /// Singular candidates of the last word (most specific first).
    public static func singularCandidates(_ name: String) -> [String] {
        var words = name.split(separator: " ").map(String.init)
        guard let last = words.last else { return [] }
        var forms: [String] = []
        if let irregular = irregularPlurals[last] { forms.append(irregular) }
        // A listed word on its own gets no suffix rules ("glasses" is eyewear, not "glass");
        // as the last of several words it does ("wine glasses" -> "wine glass").
        if irregularPlurals[last] == nil || words.count > 1 { forms += regularSingulars(last) }
        return forms.map { f in
            words[words.count - 1] = f
            return words.joined(separator: " ")
        }
    }

    private static func regularSingulars(_ last: String) -> [String] {
        var forms: [String] = []
        if last.hasSuffix("ies"), last.count > 3 { forms.append(String(last.dropLast(3)) + "y") }
        if last.hasSuffix("ves"), last.count > 3 {
            forms.append(String(last.dropLast(3)) + "f")
            forms.append(String(last.dropLast(3)) + "fe")
        }
        for suffix in ["ches", "shes", "xes", "sses", "zes", "oes", "uses"] where last.hasSuffix(suffix) {
            forms.append(String(last.dropLast(2)))
        }
        if last.hasSuffix("s"), !last.hasSuffix("ss"), last.count > 1 { forms.append(String(last.dropLast())) }
        return forms
    }

    /// The COCO category name this object name maps to, among `categoryNames` (nil if none).
    public static func resolveName(_ name: String, among categoryNames: Set<String>) -> String? {
        let n = normalize(name)
        func direct(_ s: String) -> String? {
            if categoryNames.contains(s) { return s }
            if let syn = synonyms[s], categoryNames.contains(syn) { return syn }
            return nil
        }
        if let hit = direct(n) { return hit }
        for s in singularCandidates(n) { if let hit = direct(s) { return hit } }
        // 4. A modified noun ("green circle", "wooden tables"): the last word alone, as in 1-3.
        let words = n.split(separator: " ")
        if words.count > 1, let head = words.last.map(String.init) {
            if let hit = direct(head) { return hit }
            for s in singularCandidates(head) { if let hit = direct(s) { return hit } }
        }
        return nil
    }

    /// The category among `categories` this object name refers to (nil if none).
    public static func resolve(_ name: String, in categories: [COCOCategory]) -> COCOCategory? {
        let names = Set(categories.map { $0.name.lowercased() })
        guard let hit = resolveName(name, among: names) else { return nil }
        return categories.first { $0.name.lowercased() == hit }
    }
}

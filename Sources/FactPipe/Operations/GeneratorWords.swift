/// Words from which the generator builds entity names: mostly CamelCase parts of a real knowledge
/// base's names, and a few with non-ASCII letters.
enum GeneratorWords {
    /// Capitalised words; two of them make one generated entity name, e.g. `NeuralReasoning`.
    static let entityParts: [String] = split(
        """
        Part Purpose Property Algorithm Euler Graph Gauss Kant Plate Quantum Aethelred Einstein Type Newton
        Similar Silk Road Learning Revolution Bond Egypt System Ancient Energy Cycle Immanuel Gothic French Machine
        Network Networks Element Database Empire Molecule Krebs Cathedrals Compound Reaction Keynesian Tectonics
        Theorem Cell Protocol Solution Protein Function Interface Gene Evolution Economics Location Set Philosophy
        Organism Matrix Neural Field Equation Motion Byzantine Wave Plates Force Particle Fusion Reason Stellar
        Ethics Influence Modern Boundaries Human Critique Research Iron Ideas Engine Advanced Stars Hexagonal Topic
        Brain Knowledge Helium Elements Policies Imperative Categorical Movement Process Data Hydrogen Convergent
        Plasticity Burning Glass End Economic Boundary Monarchy Major Divergent Stained Earth Idealism Transform
        Estates Roman Formation Napoleon Government Rights Rise Great Decline Demand Metaphysics Judgment Synapses
        Artificial Training Lithosphere Black Supernova Continental Aesthetics Routes Neutron Autonomy Terror
        Cyclical Activity Society Processing Political Justinian Declaration Copernican Synthetic Trade Ocean
        France Moral Pure New Man Evaluation Drift Model Reign Proton Counter Computer Wars Capture Cathedral
        Assembly Stimulus Vaults Spending Ribbed Blockchain Arches Cortex Medicine Light Fiscal Supernovae Massive
        Cognition Bias Carbon Oxygen Crisis Democracy Mountain German Phenomena Movements Global Engineering
        Practical Impact General Entity Computing Flying Climate Radical Priori Experience Evidence Categories
        Surface Genetic Universal Rational Buttresses Power Memory Variance Sugar Nucleotides Liberty Equality
        Public Hole Effect Chain Pointed Bastille Multiplier Information Silicon Religion Pharaohs Nitrogenous Nile
        National Metrics Storming Principles Financial Large Windows Tectonic Republic Pyramid Orthodox Neurons Giza
        Form Feudalism Spreading Signal Social Policy Core Structures Space Release Recycling Post Ottoman Noumena
        Influences Empiricism Defensive Reality Pruning Law Events Base Shape Seafloor Philosopher Fault Systems
        Natural Fossil Central San High Andreas Verticality Tradeoff Strands Ridges Ridge Rationalism Phosphate
        Pangaea Outcomes Neon Medieval Gas Development Church Bases Socrates Synaptic Robotics Key Efficiency
        Critical Sequence Red Napoleonic Subjective Sticky Schism Route Pyramids Limits Ideals Himalayas Greek
        Goods Giants Fall Coup Concept Advances Self Researchers Main Acid Term Rapid Decision Supervised China
        Star Layer Importance Duty Control Water Turks Teleology Subduction Reforms Powers Packages Land Humanity
        Handel Freedom Focus Fairness Elemente Eastern Divine Democratic Continents Collapse Christian Beauty
        Algorithms Afterlife Address Technology Reasoning Groundwork Culture Classical Short Complex Application
        Pacific Europe Valleys Stone River Rift Regulation Life Foundation Biology Walls Trenches Structure Secular
        Privileges Prices Pathways Notre Niedergang Myelination Louis Legacy Laws King Inflation Hieroglyphs Helix
        God Diseases Dame Cultural Chartres Biblical Alpha Abolition Sea State Rigid Religious Records Support
        Theory Socialism Respiration Hippocampus Double Atlantic World Violence Thymine Sophia Signals Sensory
        Science Romanesque Production Pharaoh Napoleons Mind Maritime Magnesium Lands Kingdom Heavy Hagia Guanine
        Groups Formations East Downturns Debates Cytosine Cosmic Aggregate Africa Aerobic Adenine Supply Paris
        Governance Event Principle War Validation Rosetta Rock Renewable Investment Innate Gold Glucose Frontend
        Years Wages Therapy Small Slavic Revolutions Poor Pharaonic Opposition Nature Matching Language Landforms
        Kings Jacobins Inequality Income Heavenly Functions Free Fourth Foreign Established Error Dynasty Directory
        Devotion Crusade Connections Connection Citizen Boost Bell Bang Art Python Change Between Volcanic Outer North
        Internet Detection Datasets Convection Recognition Synthesis Rome Era Behavior Year Worldwide Will Upheaval
        True Triple Treat Tombs Third Tennis Supergiants Striping Spire South Shell Schwerer Scenes Robespierre
        Reshaped Privacy Preserved Preference Patterns Pathway Papyrus Overfitting Osiris Origin Größe Straße
        Käse Öl Überblick Ästhetik Café Résumé Naïve Zürich München Ångström Señal Müller Fußball Bär
        """)

    /// Entities written by hand, as they appear in the knowledge base; they are the most popular.
    static let knownEntities: [String] = split(
        """
        Computer CPU NeuralReasoning DistributedRepresentation SymbolicReasoning TrainingData CO2 H2O NaCl CH4 NH3
        O2 DNA RNA AI HTTP REST GraphQL SQL NoSQL TCP IP Euler Gauss Newton Einstein Kant Socrates Berlin Paris
        France China Earth Water Iron Glucose Python Blockchain MachineLearning QuantumComputing HumanBrain
        SilkRoad AncientEgypt FrenchRevolution KrebsCycle PlateTectonics ByzantineEmpire NeuralNetworks
        QuantumEntanglement StellarNucleosynthesis CategoricalImperative ArtificialIntelligence Robotics
        Photosynthesis Mitochondria Ribosome Nucleus Proton Neutron Electron Photon Quark Boson Gravity Velocity
        Momentum Mass Energy Oxygen Hydrogen Nitrogen Carbon Sodium Chlorine Enzyme Virus Bacteria Fungi Plant
        Animal server client cloud encryption calculus topology algebra integral derivative limit prime integer
        CO₂ H₂O LäuftAuf Zürich München Straßenbahn Größe Ångström Σ_Notation Überblick Café HAK_GAL HAK_GAL_Frontend
        quantum_field plate_boundary neural_network SanAndreasFault Himalayas Pangaea NileRiver RosettaStone
        GreatPyramidOfGiza Constantinople ChartresCathedral CRISPR GeneTherapy SupervisedLearning
        ReinforcementLearning UnsupervisedLearning Overfitting BiasVarianceTradeoff Hippocampus Synapse Neuron
        Myelination Cytosine Guanine Adenine Thymine Pharaohs Mummification Hieroglyphs Epistemology Metaphysics
        Aesthetics Democracy Liberty Equality Inflation Unemployment FiscalStimulus MultiplierEffect SQLite
        WAL Index Cache Query Transaction Snapshot Backup Web3 IPv6 GPT4 COVID19 SARS_CoV_2 Vitamin_B12 pH
        """)

    /// Predicates written by hand, most frequent first: these take the top ranks of the skew.
    static let knownPredicates: [String] = split(
        """
        HasPart HasProperty HasPurpose Causes IsA Uses DependsOn IsDefinedAs IsTypeOf IsSimilarTo Requires
        ConsistsOf HasLocation LocatedIn PartOf UsedFor UsedIn StudiedBy WasDevelopedBy GeneratedAt Reduces
        Increases Enables Supports CausedBy DefinedBy DescribedBy DetectedBy DevelopedBy FormsFrom FunctionOf
        TheorizedBy CapitalOf CombinesWith Emits Located LocatedAt TypeOf IsType Database API Bond System Protocol
        Network Molecule Compound Interface Cell Element Protein Solution Reaction Organism Theorem Quantum
        Function Matrix Gene Evolution Set Algorithm Equation Motion Wave Force Field Energy Particle Einwohner
        LäuftAuf GehörtZu IstTeilVon Verursacht Enthält Benötigt HatEigenschaft LiegtIn Reaction Dosage Treatment
        Temperature HasSize Precipitation Orbit Mutation Habitat Catalyst Composition Coordinates Regulation
        Investment Transaction Encryption Infection Diagnosis Therapy Vaccine Species Ecosystem Climate Weather
        """)

    /// Verbs for generated predicates such as `IsCausedBy` or `WasFoundedIn`.
    static let predicateVerbs: [String] = split(
        """
        Caused Located Defined Developed Studied Used Made Derived Connected Related Linked Produced Controlled
        Regulated Measured Observed Found Owned Founded Built Written Discovered Invented Composed Contained
        Influenced Replaced Preceded Followed Supported Described Named Classified Encoded Transported Converted
        Inhibited Activated Catalyzed Absorbed Emitted Stored Governed Financed Managed Hosted Powered Protected
        Treated Taught Bound
        """)

    /// Prepositions that end generated predicates.
    static let predicatePrepositions: [String] = split("By In At Of To With From On For Into")

    /// Roles of `role:value` arguments.
    static let roles: [String] = split(
        """
        start end at by in location source unit value from to during confidence method T k p status version
        """)

    /// Units of `Q(value, unit)` quantities.
    static let units: [String] = split("K s m kg mol J eV Hz Pa mm nm ms km/h m/s s^-1 mol/L °C % MB")

    /// Short sentences of the kind that end up in a fact dump by mistake.
    static let freeText: [String] = [
        "this is not a fact",
        "Database size discrepancy noted in verification",
        "TODO: add more facts about",
        "note to self - check the import of",
        "External verification confirms performance optimizations for",
        "see the meeting notes about",
        "Die Größe hängt ab von",
    ]

    /// Tags put in the records' `context`.
    static let tags: [String] = split("t1 t2 t3 science tech biology chemistry physics history verified llm import")

    /// Values of `context.source`.
    static let contextSources: [String] = ["synthetic", "human_verified", "llm_generated", "import"]

    private static func split(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }
}

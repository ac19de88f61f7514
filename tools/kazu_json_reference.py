#!/usr/bin/python3
"""Reference output for the Kazu JSON writer: Kazu's data classes and its cattrs
converter rules transcribed to the standard library, run over a few recipes.

Kazu (kazu/data/__init__.py, v2.3.0) serialises with
cattrs.preconf.json.make_converter(omit_if_default=True, forbid_extra_keys=True)
and json.dumps' defaults. cattrs cannot be installed here, so this file restates
what that converter does to Kazu's classes:

* fields in declaration order; init=False fields (Entity.start/end/match_norm,
  Section._sentence_spans) included; Entity._id omitted;
* a field equal to its default (or default_factory()) is omitted;
* MentionConfidence (IntEnum) -> member name; AutoNameEnum -> value (= name);
* sets/frozensets/tuples -> lists; Entity.linking_candidates -> [[candidate, metrics], ...];
* Section._sentence_spans is renamed "sentence_spans";
* json.dumps(..., ensure_ascii=True, separators=(", ", ": ")), floats by repr().

Deliberate differences from Kazu, all documented in docs/io-json.md:
* Python prints sets in hash order (random per process); we print them sorted
  (strings by code point, spans by (start, end), id pairs as tuples, id sets by
  their sorted pair lists), duplicates removed as a set would.
* Entity.mappings is a set in Kazu; here it keeps insertion order, as kazu-c does.
* match_norm comes from Kazu's StringNormalizer, which lands in kazu-c with the
  knowledge base; recipes give it explicitly and the key is omitted without it.

Usage: tools/kazu_json_reference.py [OUT_DIR]  (default tests/golden/kazu_json).
Writes recipes.json (what tests/unit/test_io_json.c rebuilds through the C API),
<name>.json per recipe (Document.to_json() plus a newline), <name>.utf8.json
where a recipe asks for ensure_ascii=False, unicode.pretty.json (indent=2) and
all.array.json (a list of every document, as Kazu's web API returns).
"""

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from enum import Enum, IntEnum, auto
from typing import Optional


class AutoNameEnum(Enum):
    def _generate_next_value_(name, start, count, last_values):
        return name


class MentionConfidence(IntEnum):
    HIGHLY_LIKELY = 100
    PROBABLE = 50
    POSSIBLE = 10
    IGNORE = 0


class StringMatchConfidence(AutoNameEnum):
    HIGHLY_LIKELY = auto()
    PROBABLE = auto()
    POSSIBLE = auto()


class DisambiguationConfidence(AutoNameEnum):
    HIGHLY_LIKELY = auto()
    PROBABLE = auto()
    POSSIBLE = auto()
    AMBIGUOUS = auto()


class EquivalentIdAggregationStrategy(AutoNameEnum):
    NO_STRATEGY = auto()
    RESOLVED_BY_SIMILARITY = auto()
    SYNONYM_IS_AMBIGUOUS = auto()
    CUSTOM = auto()
    UNAMBIGUOUS = auto()
    MERGED_AS_NON_SYMBOLIC = auto()
    MODIFIED_BY_CURATION = auto()
    RESOLVED_BY_XREF = auto()


@dataclass(frozen=True)
class CharSpan:
    start: int
    end: int


@dataclass(frozen=True, eq=True, order=True)
class EquivalentIdSet:
    ids_and_source: frozenset = field(default_factory=frozenset)


@dataclass(frozen=True)
class Mapping:
    default_label: str
    source: str
    parser_name: str
    idx: str
    string_match_strategy: str
    string_match_confidence: StringMatchConfidence
    disambiguation_confidence: Optional[DisambiguationConfidence] = None
    disambiguation_strategy: Optional[str] = None
    xref_source_parser_name: Optional[str] = None
    metadata: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True, eq=True)
class LinkingCandidate:
    raw_synonyms: frozenset
    synonym_norm: str
    parser_name: str
    is_symbolic: bool
    associated_id_sets: frozenset
    aggregated_by: EquivalentIdAggregationStrategy = field(hash=False, compare=False)
    mapping_types: frozenset = field(hash=False, default_factory=frozenset)


@dataclass()
class LinkingMetrics:
    search_score: Optional[float] = field(compare=False, default=None)
    embed_score: Optional[float] = field(compare=False, default=None)
    bool_score: Optional[float] = field(compare=False, default=None)
    exact_match: Optional[bool] = field(compare=False, default=None)


@dataclass
class Entity:
    match: str
    entity_class: str
    spans: frozenset
    namespace: str
    mention_confidence: MentionConfidence = MentionConfidence.HIGHLY_LIKELY
    _id: str = "id-not-serialised"
    mappings: list = field(default_factory=list)  # a set in Kazu: see the module docstring
    metadata: dict = field(default_factory=dict)
    start: int = field(init=False)
    end: int = field(init=False)
    match_norm: Optional[str] = field(init=False)
    linking_candidates: dict = field(default_factory=dict)

    def __post_init__(self):
        self.start = min(s.start for s in self.spans)
        self.end = max(s.end for s in self.spans)
        self.match_norm = None

    def add_or_update_linking_candidate(self, candidate, new_metrics):
        existing = self.linking_candidates.get(candidate)
        if not existing:
            self.linking_candidates[candidate] = new_metrics
        else:
            for k, v in new_metrics.__dict__.items():
                if v is not None:
                    setattr(existing, k, v)

    @classmethod
    def from_spans(cls, spans, text, join_str="", **kwargs):
        pieces = [text[s:e] for s, e in spans]
        return cls(spans=frozenset(CharSpan(s, e) for s, e in spans), match=join_str.join(pieces), **kwargs)


@dataclass
class Section:
    text: str
    name: str
    metadata: dict = field(default_factory=dict)
    entities: list = field(default_factory=list)
    _sentence_spans: Optional[tuple] = field(default=None, init=False)


@dataclass
class Document:
    idx: str
    sections: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


# ---- the converter ---------------------------------------------------------------
def _set_key(x):
    if isinstance(x, CharSpan):
        return (x.start, x.end)
    if isinstance(x, EquivalentIdSet):
        return sorted(x.ids_and_source)
    return x


def _default_of(f):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def unstructure(v):
    if isinstance(v, MentionConfidence):
        return v.name
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, (set, frozenset)):
        return [unstructure(x) for x in sorted(v, key=_set_key)]
    if isinstance(v, (list, tuple)):
        return [unstructure(x) for x in v]
    if isinstance(v, dict):
        return {k: unstructure(x) for k, x in v.items()}
    if dataclasses.is_dataclass(v):
        out = {}
        for f in dataclasses.fields(v):
            if isinstance(v, Entity) and f.name == "_id":
                continue
            value = getattr(v, f.name)
            if value == _default_of(f) or (f.name == "match_norm" and value is None):
                continue
            if isinstance(v, Entity) and f.name == "linking_candidates":
                out[f.name] = [[unstructure(c), unstructure(m)] for c, m in value.items()]
            else:
                out["sentence_spans" if f.name == "_sentence_spans" else f.name] = unstructure(value)
        return out
    return v


def to_json(doc, **kwargs):
    return json.dumps(unstructure(doc), **kwargs)


# ---- recipes -> documents ------------------------------------------------------------
def _meta(raw):
    """Recipes carry metadata values as JSON text, which C feeds to kz_meta_set_json."""
    return {k: json.loads(v) for k, v in raw.items()}


def _raw(**values):
    return {k: json.dumps(v, ensure_ascii=False, separators=(",", ":")) for k, v in values.items()}


def build(recipe):
    doc = Document(idx=recipe["idx"], metadata=_meta(recipe.get("metadata", {})))
    for rs in recipe.get("sections", []):
        sec = Section(text=rs["text"], name=rs["name"], metadata=_meta(rs.get("metadata", {})))
        if "sentence_spans" in rs:
            sec._sentence_spans = tuple(CharSpan(s, e) for s, e in rs["sentence_spans"])
        for re_ in rs.get("entities", []):
            kwargs = dict(entity_class=re_["entity_class"], namespace=re_["namespace"],
                          mention_confidence=MentionConfidence[re_.get("mention_confidence", "HIGHLY_LIKELY")],
                          metadata=_meta(re_.get("metadata", {})))
            if "match" in re_:
                ent = Entity(match=re_["match"], spans=frozenset(CharSpan(s, e) for s, e in re_["spans"]), **kwargs)
            else:
                ent = Entity.from_spans(re_["spans"], rs["text"], re_.get("join_str", ""), **kwargs)
            ent.match_norm = re_.get("match_norm")
            for rm in re_.get("mappings", []):
                ent.mappings.append(Mapping(
                    default_label=rm["default_label"], source=rm["source"], parser_name=rm["parser_name"],
                    idx=rm["idx"], string_match_strategy=rm["string_match_strategy"],
                    string_match_confidence=StringMatchConfidence[rm["string_match_confidence"]],
                    disambiguation_confidence=(DisambiguationConfidence[rm["disambiguation_confidence"]]
                                               if "disambiguation_confidence" in rm else None),
                    disambiguation_strategy=rm.get("disambiguation_strategy"),
                    xref_source_parser_name=rm.get("xref_source_parser_name"),
                    metadata=_meta(rm.get("metadata", {}))))
            for rc in re_.get("candidates", []):
                cand = LinkingCandidate(
                    raw_synonyms=frozenset(rc["raw_synonyms"]), synonym_norm=rc["synonym_norm"],
                    parser_name=rc["parser_name"], is_symbolic=rc["is_symbolic"],
                    associated_id_sets=frozenset(EquivalentIdSet(frozenset(tuple(p) for p in s))
                                                 for s in rc["associated_id_sets"]),
                    aggregated_by=EquivalentIdAggregationStrategy[rc["aggregated_by"]],
                    mapping_types=frozenset(rc.get("mapping_types", [])))
                ent.add_or_update_linking_candidate(cand, LinkingMetrics(**rc["metrics"]))
            sec.entities.append(ent)
        doc.sections.append(sec)
    return doc


EGFR_TEXT = "EGFR mutations are often implicated in lung cancer."
UNICODE_TEXT = ("Caf\u00e9 \u20ac5 \U0001F600 study: patients with lung and liver cancer (NSCLC) received 5-FU\t"
                "daily \"twice\" \\ \u03b1-synuclein \u6d4b\u8bd5.")

RECIPES = [
    {"name": "simple", "ascii": True, "doc": {
        "idx": "3f2b9c0d5e6a4b7c8d9e0f1a2b3c4de1",
        "sections": [{"text": EGFR_TEXT, "name": "na", "entities": [
            {"spans": [[0, 4]], "entity_class": "gene", "namespace": "TransformersModelForTokenClassificationNerStep",
             "match_norm": "EGFR",
             "mappings": [{"default_label": "EGFR", "source": "ENSEMBL", "parser_name": "OPENTARGETS_TARGET",
                           "idx": "ENSG00000146648", "string_match_strategy": "ExactMatchMappingStrategy",
                           "string_match_confidence": "HIGHLY_LIKELY", "disambiguation_confidence": "HIGHLY_LIKELY",
                           "disambiguation_strategy": "PreferDefaultLabelMatchDisambiguationStrategy",
                           "metadata": _raw(dbXRefs=["HGNC:3236"], approvedName="epidermal growth factor receptor",
                                            annotation_score=10, data_origin="24.09")}],
             "candidates": [{"raw_synonyms": ["EGFR"], "synonym_norm": "EGFR", "parser_name": "OPENTARGETS_TARGET",
                             "is_symbolic": True, "associated_id_sets": [[["ENSG00000146648", "ENSEMBL"]]],
                             "aggregated_by": "CUSTOM", "mapping_types": ["approvedSymbol", "HGNC"],
                             "metrics": {"exact_match": True}}]},
            {"spans": [[39, 50]], "entity_class": "disease", "namespace": "MemoryEfficientStringMatchingStep",
             "mention_confidence": "PROBABLE", "match_norm": "LUNG CANCER",
             "mappings": [{"default_label": "lung cancer", "source": "MONDO", "parser_name": "MONDO",
                           "idx": "http://purl.obolibrary.org/obo/MONDO_0008903",
                           "string_match_strategy": "ExactMatchMappingStrategy",
                           "string_match_confidence": "PROBABLE"}]}]}]}},
    {"name": "unicode", "ascii": True, "utf8": True, "doc": {
        "idx": "doc-\u00fcn\u00ef-\U0001F600",
        "metadata": _raw(PROCESSING_EXCEPTION="TransformersModelForTokenClassificationNerStep: boom\n"
                                              "Traceback \"here\"\tend",
                         weights=[0.1, 1e-05, 100.0, -0.0, 1e16, 1.5e-07, 123456789.125, 3, -7],
                         nested={"a": {"b": [True, False, None]}, "\u00e9t\u00e9": "\u2713 \U0001F9EC"}),
        "sections": [
            {"text": UNICODE_TEXT, "name": "t\u00edtle",
             "metadata": _raw(source="PubMed", ratio=1 / 3),
             "sentence_spans": [[16, len(UNICODE_TEXT)], [0, 15]],
             "entities": [
                 {"spans": [[31, 35], [46, 52]], "join_str": " ", "entity_class": "disease",
                  "namespace": "TransformersModelForTokenClassificationNerStep", "mention_confidence": "PROBABLE",
                  "match_norm": "LUNG CANCER"},
                 {"spans": [[40, 52]], "entity_class": "disease", "namespace": "MemoryEfficientStringMatchingStep",
                  "metadata": _raw(**{"cl\u00e9": "valeur \u2713", "score": 0.5})},
                 {"spans": [[46, 52]], "entity_class": "disease", "namespace": "MemoryEfficientStringMatchingStep",
                  "mention_confidence": "POSSIBLE"},
                 {"spans": [[54, 59]], "entity_class": "disease", "namespace": "MemoryEfficientStringMatchingStep",
                  "match_norm": "NSCLC",
                  "mappings": [
                      {"default_label": "non-small cell lung carcinoma", "source": "MONDO", "parser_name": "MONDO",
                       "idx": "http://purl.obolibrary.org/obo/MONDO_0005233",
                       "string_match_strategy": "SymbolMatchMappingStrategy", "string_match_confidence": "POSSIBLE",
                       "disambiguation_confidence": "AMBIGUOUS", "disambiguation_strategy": "TfIdfDisambiguation",
                       "xref_source_parser_name": "OPENTARGETS_DISEASE",
                       "metadata": _raw(scores=[0.1, 1e-05, 100.0], label="carcinome \u00e0 \"petites\" cellules",
                                        ctrl="a\x01b\x7fc", empty={}, none=None)},
                      {"default_label": "NSCLC", "source": "EFO", "parser_name": "OPENTARGETS_DISEASE",
                       "idx": "EFO_0003060", "string_match_strategy": "ExactMatchMappingStrategy",
                       "string_match_confidence": "HIGHLY_LIKELY"}]},
                 {"spans": [[70, 74]], "entity_class": "drug", "namespace": "MemoryEfficientStringMatchingStep",
                  "mention_confidence": "IGNORE", "match_norm": "5-FU",
                  "candidates": [
                      {"raw_synonyms": ["5-FU", "5 FU", "5-fu", "5-FU"], "synonym_norm": "5-FU",
                       "parser_name": "CHEMBL", "is_symbolic": True,
                       "associated_id_sets": [[["CHEMBL185", "CHEMBL"], ["DB00544", "DRUGBANK"]],
                                              [["CHEMBL1234", "CHEMBL"]], [], [["CHEMBL1234", "CHEMBL"]]],
                       "aggregated_by": "RESOLVED_BY_SIMILARITY", "mapping_types": ["synonym", "pref_name", "synonym"],
                       "metrics": {"search_score": 12.5, "embed_score": 0.1, "bool_score": True, "exact_match": True}},
                      {"raw_synonyms": ["fluorouracil"], "synonym_norm": "FLUOROURACIL", "parser_name": "OPENTARGETS_MOLECULE",
                       "is_symbolic": False, "associated_id_sets": [[["CHEMBL185", "CHEMBL"]]],
                       "aggregated_by": "UNAMBIGUOUS", "metrics": {"bool_score": 0.75}},
                      {"raw_synonyms": ["\u03b1-FU"], "synonym_norm": "ALPHA-FU", "parser_name": "CHEMBL",
                       "is_symbolic": False, "associated_id_sets": [], "aggregated_by": "NO_STRATEGY", "metrics": {}},
                      {"raw_synonyms": ["fluorouracil"], "synonym_norm": "FLUOROURACIL", "parser_name": "OPENTARGETS_MOLECULE",
                       "is_symbolic": False, "associated_id_sets": [[["CHEMBL185", "CHEMBL"]]],
                       "aggregated_by": "UNAMBIGUOUS", "metrics": {"search_score": 99.0, "exact_match": False}}]},
                 {"spans": [[91, 102]], "entity_class": "gene", "namespace": "TransformersModelForTokenClassificationNerStep",
                  "match": "\u03b1-synuclein", "match_norm": "ALPHA-SYNUCLEIN"},
                 {"spans": [[103, 105]], "entity_class": "species", "namespace": "GLiNERStep",
                  "mention_confidence": "PROBABLE"}]},
            {"text": "Second section \U0001F9EA without entities.", "name": "abstract", "sentence_spans": []}]}},
    {"name": "sections", "ascii": True, "doc": {
        "idx": "PMC123",
        "metadata": _raw(source="pmc", pmid=123),
        "sections": [
            {"text": "", "name": "empty"},
            {"text": "The \"BRCA1\" gene.", "name": "r\u00e9sum\u00e9", "entities": [
                {"spans": [[5, 10]], "entity_class": "gene", "namespace": "ExplosionStringMatchingStep",
                 "candidates": [{"raw_synonyms": ["BRCA1"], "synonym_norm": "BRCA1", "parser_name": "HGNC",
                                 "is_symbolic": True,
                                 "associated_id_sets": [[["ENSG00000012048", "ENSEMBL"], ["HGNC:1100", "HGNC"]]],
                                 "aggregated_by": "MODIFIED_BY_CURATION", "metrics": {"search_score": 100.0}}]}]},
            {"text": "line one\nline two", "name": "body", "sentence_spans": [[0, 8], [9, 17]]}]}},
    {"name": "empty", "ascii": True, "doc": {"idx": "doc-empty"}},
]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "kazu_json")
    os.makedirs(out_dir, exist_ok=True)

    def write(name, text):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    write("recipes.json", json.dumps(RECIPES, indent=1, ensure_ascii=True) + "\n")
    docs = {r["name"]: build(r["doc"]) for r in RECIPES}
    for r in RECIPES:
        write(r["name"] + ".json", to_json(docs[r["name"]]) + "\n")
        if r.get("utf8"):
            write(r["name"] + ".utf8.json", to_json(docs[r["name"]], ensure_ascii=False) + "\n")
    write("unicode.pretty.json", json.dumps(unstructure(docs["unicode"]), indent=2) + "\n")
    write("all.array.json", json.dumps([unstructure(d) for d in docs.values()]) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Peer for bench_medline: the same MEDLINE .xml.gz -> JSONL conversion in plain Python
(Debian's python3: gzip + xml.etree.iterparse + json.dumps), printing docs/s and peak RSS."""
import gzip, json, resource, sys, time
import xml.etree.ElementTree as ET


def text_of(el):
    return "".join(el.itertext()) if el is not None else ""


def main(path, out_path="/dev/null"):
    t0 = time.time()
    n = 0
    with gzip.open(path, "rb") as f, open(out_path, "w") as out:
        for _, el in ET.iterparse(f, events=("end",)):
            if el.tag != "PubmedArticle":
                continue
            cit = el.find("MedlineCitation")
            pmid = cit.findtext("PMID", default="")
            art = cit.find("Article")
            sections = [{"text": text_of(art.find("ArticleTitle")), "name": "title"}]
            parts = []
            for ab in art.findall("Abstract/AbstractText"):
                label = ab.get("Label")
                parts.append((label + ": " if label else "") + text_of(ab))
            if parts:
                sections.append({"text": "\n".join(parts), "name": "abstract"})
            out.write(json.dumps({"idx": pmid, "sections": sections}) + "\n")
            n += 1
            el.clear()
    dt = time.time() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"python peer: {n} docs in {dt:.2f} s: {n / dt:.0f} docs/s, peak RSS {rss_mb:.1f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:])

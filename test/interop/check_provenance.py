"""Reads strato's provenance documents with W3C PROV's python library (Debian's python3-prov).

Usage: check_provenance.py BASE_URL DATASET_ID|JOB_PROVENANCE_URL [...]

For each dataset (or job result: a URL argument, starting from its result-1 entity): PROV-JSON
deserializes, the chain from the processed view (ds:zarr) runs back
through wasDerivedFrom / wasGeneratedBy / used to SourceFile entities whose locations are the
expected files; PROV-N is read back when this prov can read it (prov 2 only writes PROV-N), and
the Turtle is parsed by rdflib when present. Prints one JSON line.
"""

import json
import sys
import urllib.request

import prov.model

STRATO = 'urn:strato:prov#'


def get(url, accept=None):
    request = urllib.request.Request(url, headers={'Accept': accept} if accept else {})
    with urllib.request.urlopen(request) as response:
        return response.headers.get('content-type'), response.read().decode()


def chain_to_sources(document, start):
    """Identifiers reachable from `start` backwards through derivation, generation and usage."""
    edges = {}
    for record in document.get_records(prov.model.ProvRelation):
        attrs = dict(record.formal_attributes)
        if isinstance(record, prov.model.ProvDerivation):
            edges.setdefault(attrs[prov.model.PROV_ATTR_GENERATED_ENTITY], []).append(attrs[prov.model.PROV_ATTR_USED_ENTITY])
        elif isinstance(record, prov.model.ProvGeneration):
            edges.setdefault(attrs[prov.model.PROV_ATTR_ENTITY], []).append(attrs[prov.model.PROV_ATTR_ACTIVITY])
        elif isinstance(record, prov.model.ProvUsage):
            edges.setdefault(attrs[prov.model.PROV_ATTR_ACTIVITY], []).append(attrs[prov.model.PROV_ATTR_ENTITY])
    seen, stack, path = set(), [start], []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        path.append(node)
        stack.extend(edges.get(node, []))
    return seen


def main():
    base, ids = sys.argv[1], sys.argv[2:]
    report = {'ok': True, 'problems': [], 'datasets': {}}
    for dataset_id in ids:
        url = dataset_id if dataset_id.startswith('http') else f'{base}/datasets/{dataset_id}/provenance'
        start = 'result-1' if dataset_id.startswith('http') else 'zarr'
        ctype, text = get(url)
        if not ctype.startswith('application/json'):
            report['problems'].append(f'{dataset_id}: content-type {ctype}')
        document = prov.model.ProvDocument.deserialize(content=text, format='json')
        bundle = document
        zarr = next((r.identifier for r in bundle.get_records(prov.model.ProvEntity) if r.identifier.localpart == start), None)
        if zarr is None:
            report['problems'].append(f'{dataset_id}: no processed-view entity')
            continue
        reachable = chain_to_sources(bundle, zarr)
        sources = []
        for entity in bundle.get_records(prov.model.ProvEntity):
            types = [str(t) for t in entity.get_attribute('prov:type')]
            if any(t.endswith('SourceFile') for t in types) and entity.identifier in reachable:
                location = list(entity.get_attribute('prov:location'))
                size = list(entity.get_attribute(prov.model.QualifiedName(prov.model.Namespace('strato', STRATO), 'size')))
                sources.append({'location': str(location[0]) if location else None, 'size': int(size[0]) if size else None})
        table_reached = any(q.localpart == 'references' for q in reachable)
        formats = {}
        for accept, name in (('text/provenance-notation', 'provn'), ('text/turtle', 'turtle')):
            ctype, body = get(url, accept)
            formats[name] = {'type': ctype.split(';')[0], 'bytes': len(body)}
            if name == 'provn':
                formats[name]['starts'] = body.split('\n', 1)[0]
                formats[name]['ends'] = body.strip().rsplit('\n', 1)[-1]
                # prov 2 writes PROV-N but cannot read it: compare with what prov itself writes
                formats[name]['prov_writes_same_records'] = sorted(document.get_provn().count(k) for k in ('entity(', 'activity(', 'wasDerivedFrom(')) == sorted(
                    body.count(k) for k in ('entity(', 'activity(', 'wasDerivedFrom(')
                )
            if name == 'turtle':
                try:
                    import rdflib  # noqa: PLC0415

                    graph = rdflib.Graph().parse(data=body, format='turtle')
                    formats[name]['triples'] = len(graph)
                except ImportError:
                    formats[name]['triples'] = None
        report['datasets'][dataset_id] = {
            'sources': sorted(sources, key=lambda s: s['location'] or ''),
            'table_reached': table_reached,
            'entities': len(list(bundle.get_records(prov.model.ProvEntity))),
            'formats': formats,
        }
    report['ok'] = not report['problems']
    print(json.dumps(report))


if __name__ == '__main__':
    main()

# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Glance on its own SVM (issue 20): a Glance store on FlexVol vol_vs1 of
SVM vs1, the pools on vs0. Without an SVM peer relationship for file copy
the driver does not post a File Copy ONTAP would refuse: it downloads and
its per-create line says why, with the command to run. Once the operator
has created the peer (``POST /api/svm/peers``, as ``vserver peer create
... -applications file-copy`` does), creates from that store take File
Copy, timed next to the same-SVM cold create of ``e2e_1_paths``."""

from tests.e2e import storage
from tests.e2e.scenario import EIC

POOL_A = storage.EIC_POOLS[0]


def test_file_copy_from_another_svm_once_peered(run):
    image_id, image = run.image('other_svm')
    before = run.create(image_id, image, EIC, POOL_A)
    report = run.driver_report(before.volume_id)
    assert (report.path, before.observed, before.copies) == (
        'download', 'download', [])
    assert ('SVM vs1 is not peered with SVM vs0 for file copy (vserver peer '
            'create -vserver vs0 -peer-vserver vs1 -applications '
            'file-copy)') in report.details, report.details
    run.record('cold: image on SVM vs1, no SVM peer', before, report.path)

    run.stack.storage.rest('POST', 'svm/peers', {
        'svm': {'name': storage.SVM},
        'peer': {'svm': {'name': storage.OTHER_SVM}},
        'applications': ['file_copy']})
    peers = run.stack.storage.rest(
        'GET', 'svm/peers?fields=state,applications&svm.name=%s'
        % storage.SVM)['records']
    assert [(p['state'], p['applications']) for p in peers] == [
        ('peered', ['file_copy'])]

    image_id, image = run.image('other_svm')
    after = run.create(image_id, image, EIC, POOL_A)
    report = run.driver_report(after.volume_id)
    assert (report.path, after.observed, len(after.copies)) == (
        'file-copy', 'file-copy', 1)
    run.record('cold: image on SVM vs1, peered for file copy', after,
               report.path)

// reid gallery UI: plain JavaScript, no external resources. Every call carries the API key from the header
// field (kept in localStorage); crops are fetched with the key and shown through blob URLs.
'use strict';
const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
};
const state = { info: null, key: localStorage.getItem('reid.key') || '' };

function showMessage(text, kind = 'error') {
  const m = $('#message');
  m.textContent = text; m.className = kind === 'info' ? 'info' : ''; m.hidden = !text;
}

// XMLHttpRequest rather than fetch: it reports upload progress for large files.
function api(method, path, form, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.setRequestHeader('X-Api-Key', state.key);
    if (progress) {
      progress.hidden = false; progress.removeAttribute('value');
      xhr.upload.onprogress = e => { if (e.lengthComputable) progress.value = 100 * e.loaded / e.total; };
      xhr.upload.onload = () => progress.removeAttribute('value'); // uploaded: the server is working
    }
    xhr.onload = () => {
      if (progress) progress.hidden = true;
      let body = null;
      try { body = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { body = { error: xhr.responseText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new Error((body && body.error) || `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => { if (progress) progress.hidden = true; reject(new Error('the server did not answer')); };
    xhr.send(form || null);
  });
}

const cropCache = new Map();
function crop(url, alt = '') {
  const img = el('img', { alt, loading: 'lazy' });
  if (!url) return img;
  const cached = cropCache.get(url);
  if (cached) { img.src = cached; return img; }
  fetch(url, { headers: { 'X-Api-Key': state.key } })
    .then(r => r.ok ? r.blob() : Promise.reject())
    .then(b => { const u = URL.createObjectURL(b); cropCache.set(url, u); img.src = u; })
    .catch(() => { img.alt = 'crop unavailable'; });
  return img;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const fmt = x => (Math.round(x * 1000) / 1000).toFixed(3);
function scoreBar(score) {
  return el('div', { className: 'bar' }, el('div', { style: `width:${Math.max(0, Math.min(1, score)) * 100}%` }));
}

function previewFiles(input, target) {
  input.addEventListener('change', () => {
    target.replaceChildren(...[...input.files].filter(f => f.type.startsWith('image/')).slice(0, 24)
      .map(f => el('img', { src: URL.createObjectURL(f), alt: f.name })));
  });
}

async function refreshInfo() {
  try {
    state.info = await api('GET', '/api/info');
    const i = state.info;
    $('#status').textContent = `model ${i.model.slice(0, 24)} · ${i.identities} identities · ${i.indexed} sightings indexed · ` +
      `threshold ${fmt(i.threshold.score)} (${i.threshold.source}) · ${i.role} key`;
    if (i.missing_embeddings > 0) showMessage(`${i.missing_embeddings} sightings have no embedding for this model: run reid gallery reembed`, 'info');
    document.querySelectorAll('.video-only').forEach(f => f.hidden = !i.video);
    document.querySelectorAll('.travel-only').forEach(f => f.hidden = !i.travel_times);
    // a read-only key cannot enrol, delete or calibrate: those controls are not shown to it at all
    document.body.dataset.role = i.role;
    if (i.role !== 'write' && $('#tab-enrol').classList.contains('active')) openTab('identify');
    return true;
  } catch (e) {
    document.body.dataset.role = 'none';
    $('#status').textContent = 'not signed in';
    showMessage(`Cannot use the API: ${e.message}. Open the sign-in link that reid serve printed, or paste an API key above.`);
    return false;
  }
}

// ---- tabs ---------------------------------------------------------------------------------------------------
function openTab(name) {
  document.querySelectorAll('#tabs button').forEach(b => b.classList.toggle('active', b.dataset.tab === name));
  document.querySelectorAll('.tab').forEach(t => t.classList.toggle('active', t.id === `tab-${name}`));
  showMessage('');
  if (name === 'verify') loadIdentityChoices();
  if (name === 'gallery') loadGallery();
  if (name === 'live') startLive(); else stopLive();
}
document.querySelectorAll('#tabs button').forEach(b => b.addEventListener('click', () => openTab(b.dataset.tab)));

function busy(form, on) { form.querySelectorAll('button[type=submit]').forEach(b => b.disabled = on); }

function submitWith(formSel, handler) {
  const form = $(formSel);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    showMessage('');
    busy(form, true);
    try { await handler(form); } catch (e) { showMessage(e.message); } finally { busy(form, false); }
  });
}

function sightingCard(s, caption) {
  return el('div', { className: 'card' }, crop(s.crop, caption), el('div', {}, caption));
}


// ---- video: a timeline as soon as a file is chosen, then tracking over the range picked on it ------------------
// Choosing a file uploads it at once with track=false: the answer is the video's timeline (rate, length, thumbnails),
// on which the user picks a range in frames (the first is 1) or seconds (frame 1 is at 0 s). Submitting tracks that
// range of the upload already on the server; without a timeline (or once it has been tracked) the file is sent again.
const fmtTime = s => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}`;

function rangeToFrames(form, tl) {
  const read = v => v === '' ? null : Number(v);
  let [from, to] = [read(form.from.value), read(form.to.value)];
  if (form.unit.value === 'seconds' && tl) {
    from = from == null ? null : Math.floor(from * tl.fps + 1e-6) + 1;
    to = to == null ? null : Math.min(tl.frames, Math.floor(to * tl.fps + 1e-6) + 1);
  }
  return [from ?? 1, to ?? (tl ? tl.frames : null)];
}

function setupTimeline(form) {
  const box = el('div', { className: 'timeline', hidden: true });
  box.dataset.testid = form.id.replace('-form', '-timeline');
  form.unit.closest('label').after(box);
  form.video.addEventListener('change', () => {
    form._job = null; form._tracked = false; form._anchor = null;
    box.hidden = !form.video.files.length;
    form._probe = form.video.files.length ? probeVideo(form, box) : null;
  });
  form.unit.addEventListener('change', () => {
    const tl = form._job && form._job.timeline;
    const seconds = form.unit.value === 'seconds';
    for (const input of [form.from, form.to]) { input.step = seconds ? '0.1' : '1'; input.min = seconds ? '0' : '1'; }
    if (!tl) return;
    // the values keep their meaning when the unit changes: seconds → frames back and forth
    for (const input of [form.from, form.to]) {
      if (input.value === '') continue;
      const v = Number(input.value);
      input.value = seconds ? ((v - 1) / tl.fps).toFixed(1) : Math.floor(v * tl.fps + 1e-6) + 1;
    }
    markRange(form);
  });
  form.addEventListener('reset', () => { box.hidden = true; form._job = null; form._probe = null; });
  form.from.addEventListener('input', () => markRange(form));
  form.to.addEventListener('input', () => markRange(form));
}

async function probeVideo(form, box) {
  const data = new FormData();
  data.append('video', form.video.files[0]);
  data.append('track', 'false');
  const status = el('p', { className: 'muted', textContent: 'Reading the video…' });
  const progress = el('progress', { max: 100 });
  box.replaceChildren(status, progress);
  try {
    const job = await api('POST', '/api/video/jobs', data, progress);
    form._job = job;
    drawTimeline(form, box, job);
    return job;
  } catch (e) {
    box.replaceChildren(el('p', { className: 'muted' }, `No timeline: ${e.message}`));
    showMessage(e.message);
    return null;
  }
}

function drawTimeline(form, box, job) {
  const tl = job.timeline;
  if (!tl.frames) {   // a stream whose length ffprobe cannot tell: no timeline, the range is typed in
    box.replaceChildren(el('p', { className: 'muted' }, `${job.video}: ${tl.fps} frames/s, length unknown, so no timeline. ` +
      'Frames are counted from 1 and frame 1 is at 0.0 s.'));
    return;
  }
  const n = tl.thumbnails.length;
  // thumbnail i stands for the i-th of n equal parts of the video (the server shows each part's middle frame)
  form._cells = tl.thumbnails.map((t, i) => ({ from: Math.floor(i * tl.frames / n) + 1, to: Math.floor((i + 1) * tl.frames / n) }));
  // keep what the user typed meanwhile, only within the video
  if (form.unit.value === 'frames') {
    if (Number(form.to.value) > tl.frames) form.to.value = tl.frames;
    if (Number(form.from.value) > tl.frames) form.from.value = 1;
  }
  const cells = tl.thumbnails.map((t, i) => {
    const c = form._cells[i];
    const cell = el('button', { type: 'button', className: 'cell', title: `frames ${c.from}–${c.to}` },
      crop(t.url, `frame ${t.frame}`), el('span', {}, `${fmtTime(t.time)} · f${t.frame}`));
    cell.dataset.testid = `${box.dataset.testid}-cell-${i}`;
    cell.addEventListener('click', () => {
      // first click: that part; second click: from the first part to this one
      const a = form._anchor;
      const [lo, hi] = a == null ? [i, i] : [Math.min(a, i), Math.max(a, i)];
      form._anchor = a == null ? i : null;
      const [from, to] = [form._cells[lo].from, form._cells[hi].to];
      const seconds = form.unit.value === 'seconds';
      form.from.value = seconds ? ((from - 1) / tl.fps).toFixed(1) : from;
      form.to.value = seconds ? ((to - 1) / tl.fps).toFixed(1) : to;
      markRange(form);
    });
    return cell;
  });
  box.replaceChildren(
    el('p', { className: 'muted' }, `${job.video}: ${tl.frames} frames at ${tl.fps} frames/s, ${tl.duration.toFixed(1)} s. ` +
      'Frames are counted from 1 and frame 1 is at 0.0 s. Click a picture to choose its part of the video, then another to extend the range to it.'),
    el('div', { className: 'strip' }, ...cells),
    el('p', { className: 'range-label' }));
  if (tl.error) box.append(el('p', { className: 'muted' }, `No thumbnails: ${tl.error}`));
  markRange(form);
}

function markRange(form) {
  const tl = form._job && form._job.timeline;
  const box = form.querySelector('.timeline');
  if (!tl || !tl.frames || !box) return;
  const [from, to] = rangeToFrames(form, tl);
  box.querySelectorAll('.cell').forEach((cell, i) => cell.classList.toggle('in', form._cells[i].to >= from && form._cells[i].from <= to));
  box.querySelector('.range-label').textContent = to >= from
    ? `Range: frames ${from}–${to}, ${fmtTime((from - 1) / tl.fps)}–${fmtTime((to - 1) / tl.fps)} (${((to - from + 1) / tl.fps).toFixed(1)} s)`
    : 'Range: the end is before the start';
}

async function videoTracks(form, progress, status) {
  const probed = form._probe ? await form._probe : null;
  const data = new FormData();
  const seconds = form.unit.value === 'seconds';
  if (form.from.value) data.append(seconds ? 'from_time' : 'from', form.from.value);
  if (form.to.value) data.append(seconds ? 'to_time' : 'to', form.to.value);
  let job;
  // the upload may have been discarded meanwhile (a key keeps two waiting for a range, for an hour): then send it again
  const waiting = probed && !form._tracked && (await api('GET', `/api/video/jobs/${probed.id}`).catch(() => null))?.state === 'probed';
  if (waiting) {
    job = await api('POST', `/api/video/jobs/${probed.id}/track`, data);
    form._tracked = true;   // a range is tracked once per upload: the next run sends the file again
  } else {
    data.append('video', form.video.files[0]);
    job = await api('POST', '/api/video/jobs', data, progress);
  }
  progress.hidden = false;
  while (job.state === 'queued' || job.state === 'running') {
    progress.value = 100 * job.progress;
    status.textContent = `${job.state === 'queued' ? 'waiting for another video' : 'tracking people'}… ${Math.round(100 * job.progress)}%`;
    await new Promise(r => setTimeout(r, 500));
    job = await api('GET', `/api/video/jobs/${job.id}`);
  }
  progress.hidden = true;
  status.textContent = '';
  if (job.state === 'failed') throw new Error(job.error);
  if (!job.tracks.length) throw new Error('no person was tracked in those frames');
  return job;
}
// A flawed crop (cut at the frame border, truncated, blurred, occluded) is shown greyed with its reason: the server
// leaves it out of enrolments and probes.
function trackCrops(t) {
  const quality = t.crop_quality || [];
  return el('div', { className: 'grid small' }, ...t.crops.map((u, i) => {
    const q = quality[i];
    if (!q || q.usable) return crop(u, `track ${t.track}`);
    return el('figure', { className: 'flawed', title: `left out: ${q.reason}` }, crop(u, `track ${t.track}: ${q.reason}`), el('figcaption', {}, q.reason));
  }));
}
function trackHeading(t) {
  const left = t.crops.length - t.usable_crops;
  return el('h4', {}, `Track ${t.track}: frames ${t.first_frame}–${t.last_frame} (${t.detections} detections)`,
    el('span', { className: 'muted' }, left ? ` · ${t.usable_crops} of ${t.crops.length} crops usable, ${left} left out (greyed)` : ` · ${t.crops.length} crops`));
}
['#enrol-form', '#verify-form', '#identify-form', '#search-form', '#calibrate-form'].forEach(sel => setupTimeline($(sel)));

// ---- enrolment ----------------------------------------------------------------------------------------------
previewFiles($('#enrol-form [name=images]'), $('#enrol-preview'));
submitWith('#enrol-form', async form => {
  if (form.video.files.length) return enrolFromVideo(form);
  const files = form.images.files;
  if (!files.length) throw new Error('choose one or more images of the person');
  const data = new FormData();
  data.append('name', form.name.value);
  if (form.notes.value) data.append('metadata', JSON.stringify({ notes: form.notes.value }));
  for (const f of files) data.append('images', f);
  const before = await sameName(form.name.value);
  const r = await api('POST', '/api/identities', data, $('#enrol-progress'));
  warnSameName(r.identity, before);
  form.reset();
  $('#enrol-preview').replaceChildren();
  $('#enrol-result').replaceChildren(
    el('p', {}, `Enrolled `, el('strong', {}, r.identity.name), ` as identity #${r.identity.id} with ${r.sightings.length} crop(s):`),
    el('div', { className: 'grid' }, ...r.sightings.map(s => sightingCard(s, s.source || `sighting ${s.id}`))));
  refreshInfo();
});

// Two people may share a name, but the operator should know when they just made a second one.
async function sameName(name) {
  const list = await api('GET', `/api/identities?limit=1000&q=${encodeURIComponent(name.trim())}`).catch(() => []);
  return list.filter(i => i.name.toLowerCase() === name.trim().toLowerCase());
}
function warnSameName(identity, before) {
  if (before.length) showMessage(`Note: ${plural(before.length, 'other identity is', 'other identities are')} already named ` +
    `${identity.name} (${before.map(i => '#' + i.id).join(', ')}); #${identity.id} is a separate person. Delete it in the Gallery tab if it was a mistake.`, 'info');
}

async function enrolFromVideo(form) {
  if (!form.name.value) throw new Error('give the person a name');
  const out = $('#enrol-result');
  const status = el('p', { className: 'muted' });
  out.replaceChildren(status);
  const job = await videoTracks(form, $('#enrol-progress'), status);
  out.replaceChildren(el('p', {}, `${plural(job.tracks.length, 'person', 'people')} tracked in ${job.video}. Enrol the one who is ${form.name.value}:`),
    ...job.tracks.map(t => {
      const button = el('button', { type: 'button', textContent: t.usable_crops
        ? `Enrol track ${t.track} as ${form.name.value} (${plural(t.usable_crops, 'crop', 'crops')})` : `Track ${t.track} has no usable crop to enrol`, disabled: !t.usable_crops });
      button.dataset.testid = `enrol-track-${t.track}`;
      button.addEventListener('click', async () => {
        try {
          const before = await sameName(form.name.value);
          const r = await api('POST', `/api/video/jobs/${job.id}/tracks/${t.track}/enrol`, (() => { const d = new FormData(); d.append('name', form.name.value); return d; })());
          warnSameName(r.identity, before);
          form.reset();
          out.replaceChildren(el('p', {}, 'Enrolled ', el('strong', {}, r.identity.name), ` as identity #${r.identity.id} with ${r.sightings.length} crop(s) from the video:`),
            el('div', { className: 'grid' }, ...r.sightings.map(s => sightingCard(s, `frame ${s.frame}`))));
          refreshInfo();
        } catch (e) { showMessage(e.message); }
      });
      return el('div', { className: 'track' }, trackHeading(t), trackCrops(t), button);
    }));
}

// ---- verification -------------------------------------------------------------------------------------------
async function loadIdentityChoices() {
  const select = $('#verify-form [name=identity]');
  const current = select.value;
  const list = await api('GET', '/api/identities?limit=1000').catch(e => { showMessage(e.message); return []; });
  select.replaceChildren(el('option', { value: '', textContent: '— choose —' }),
    ...list.map(i => el('option', { value: i.id, textContent: `${i.name} (#${i.id}, ${plural(i.sightings, "crop", "crops")})` })));
  if (current) select.value = current;
  showSamples();
}
async function showSamples() {
  const id = $('#verify-form [name=identity]').value;
  const target = $('#verify-samples');
  if (!id) { target.replaceChildren(); return; }
  const d = await api('GET', `/api/identities/${id}`);
  target.replaceChildren(...d.sightings.slice(0, 12).map(s => crop(s.crop, d.identity.name)));
}
$('#verify-form [name=identity]').addEventListener('change', () => showSamples().catch(e => showMessage(e.message)));
previewFiles($('#verify-form [name=images]'), $('#verify-preview'));
// Verdicts in words first; how far the score lies from the decision point says how sure to be; the numbers on demand.
const CLOSE = 0.05;
function certainty(score, threshold) {
  const margin = score - threshold;
  if (margin >= CLOSE) return 'The likeness is clear.';
  if (margin >= 0) return 'But only just: compare the photos yourself before acting on it.';
  if (margin > -CLOSE) return 'But it is close: compare the photos yourself.';
  return 'The likeness is weak.';
}
function scoreDetails(text, score) {
  return el('details', { className: 'score-details' }, el('summary', {}, 'Show the score'), el('p', {}, text), scoreBar(score));
}
function verifyAnswer(r) {
  const who = r.identity.name;
  return [el('div', { className: `verdict ${r.match ? 'yes' : 'no'}`, textContent: r.match ? `Yes, this is ${who}` : `No, this is not ${who}` }),
    el('p', {}, certainty(r.score, r.threshold.score)),
    scoreDetails(`score ${fmt(r.score)} (best over ${r.identity.sightings} crops; mean ${fmt(r.mean_score)}) against threshold ${fmt(r.threshold.score)} — ${r.threshold.source}`, r.score)];
}
submitWith('#verify-form', async form => {
  if (!form.identity.value) throw new Error('choose the claimed identity');
  if (form.video.files.length) return verifyFromVideo(form);
  if (!form.images.files.length) throw new Error('choose a probe image');
  const data = new FormData();
  data.append('identity', form.identity.value);
  for (const f of form.images.files) data.append('images', f);
  if (form.threshold.value) data.append('threshold', form.threshold.value);
  const r = await api('POST', '/api/verify', data, $('#verify-progress'));
  $('#verify-result').replaceChildren(...verifyAnswer(r),
    el('p', { className: 'muted' }, 'Claimed identity\'s samples:'),
    el('div', { className: 'grid small' }, ...r.samples.map(s => crop(s.crop, r.identity.name))));
});
async function verifyFromVideo(form) {
  const out = $('#verify-result');
  const status = el('p', { className: 'muted' });
  out.replaceChildren(status);
  const job = await videoTracks(form, $('#verify-progress'), status);
  const blocks = [];
  for (const t of job.tracks) {
    if (!t.usable_crops) { blocks.push(el('div', { className: 'track' }, trackHeading(t), trackCrops(t), el('p', {}, 'Not checked: no usable crop.'))); continue; }
    const data = new FormData();
    data.append('identity', form.identity.value);
    if (form.threshold.value) data.append('threshold', form.threshold.value);
    const r = await api('POST', `/api/video/jobs/${job.id}/tracks/${t.track}/verify`, data);
    blocks.push(el('div', { className: 'track' }, trackHeading(t), trackCrops(t), ...verifyAnswer(r)));
  }
  out.replaceChildren(el('p', {}, `${plural(job.tracks.length, 'person', 'people')} tracked in ${job.video}:`), ...blocks);
}

// ---- identification -----------------------------------------------------------------------------------------
function matchCards(matches) {
  return el('div', { className: 'grid' }, ...matches.map(m => {
    const card = el('div', { className: `card${m.above_threshold ? ' match' : ''}` }, crop(m.crop, m.name),
      el('div', {}, el('strong', {}, m.name), ` #${m.identity}`),
      el('div', {}, m.above_threshold ? 'likely this person' : 'looks different'),
      scoreDetails(`score ${fmt(m.score)}, mean ${fmt(m.mean_score)} over ${m.sightings}`, m.score));
    return card;
  }));
}
function identifyAnswer(r) {
  const best = r.matches[0];
  const head = r.unknown
    ? el('div', { className: 'verdict no', textContent: r.enrolled ? `Nobody in the gallery — enrolled as ${r.enrolled.name} (#${r.enrolled.id})` : 'Nobody in the gallery' })
    : el('div', { className: 'verdict yes', textContent: `This is ${best.name}` });
  const rivals = r.matches.slice(1).filter(m => m.above_threshold).map(m => m.name);
  const words = !best ? 'The gallery is empty.'
    : rivals.length ? `${certainty(best.score, r.threshold.score)} ${rivals.join(', ')} also look${rivals.length === 1 ? 's' : ''} alike: compare the photos.`
    : certainty(best.score, r.threshold.score);
  return [head, el('p', {}, words), ...(r.spatial_temporal ? [el('p', { className: 'muted' }, r.spatial_temporal)] : []),
    ...(r.matches.length ? [el('p', { className: 'muted' }, `Closest people in the gallery (decision point ${fmt(r.threshold.score)}, ${r.threshold.source}):`),
      matchCards(r.matches)] : [])];
}
previewFiles($('#identify-form [name=images]'), $('#identify-preview'));
submitWith('#identify-form', async form => {
  if (form.video.files.length) return identifyFromVideo(form);
  if (!form.images.files.length) throw new Error('choose a probe image');
  const data = new FormData();
  for (const f of form.images.files) data.append('images', f);
  data.append('k', form.k.value);
  if (form.enrolUnknownAs.value) data.append('enrolUnknownAs', form.enrolUnknownAs.value);
  wherePlaced(form, data);
  const r = await api('POST', '/api/identify', data, $('#identify-progress'));
  $('#identify-result').replaceChildren(...identifyAnswer(r));
  if (r.enrolled) refreshInfo();
});

async function identifyFromVideo(form) {
  const out = $('#identify-result');
  const status = el('p', { className: 'muted' });
  out.replaceChildren(status);
  const job = await videoTracks(form, $('#identify-progress'), status);
  const blocks = [];
  for (const t of job.tracks) {
    if (!t.usable_crops) { blocks.push(el('div', { className: 'track' }, trackHeading(t), trackCrops(t), el('p', {}, 'Not identified: no usable crop.'))); continue; }
    const r = await api('POST', `/api/video/jobs/${job.id}/tracks/${t.track}/identify`);
    blocks.push(el('div', { className: 'track' }, trackHeading(t), trackCrops(t), ...identifyAnswer(r)));
  }
  out.replaceChildren(el('p', {}, `${plural(job.tracks.length, 'person', 'people')} tracked in ${job.video}:`), ...blocks);
}

// ---- search -------------------------------------------------------------------------------------------------
previewFiles($('#search-form [name=images]'), $('#search-preview'));
// The probe's camera and local date-time, sent as ISO 8601 (UTC) for the server's travel-time model.
function wherePlaced(form, data) {
  data.delete('camera'); data.delete('time');
  if (form.camera?.value) data.append('camera', form.camera.value);
  if (form.time?.value) data.append('time', new Date(form.time.value).toISOString());
}
function hitCards(hits) {
  return hits.map((h, i) => el('div', { className: 'card' }, crop(h.detail.crop, h.name),
    el('div', {}, `${i + 1}. `, el('strong', {}, h.name), ` #${h.identity}`),
    el('div', { className: 'score' }, fmt(h.score)), scoreBar(h.score),
    ...(h.appearance_score != null ? [el('div', { className: 'muted' }, `appearance ${fmt(h.appearance_score)}, rescaled by travel time`)] : [])));
}
submitWith('#search-form', async form => {
  if (form.video.files.length) return searchFromVideo(form);
  if (!form.images.files.length) throw new Error('choose a probe image or a video');
  const data = new FormData();
  for (const f of form.images.files) data.append('images', f);
  data.append('k', form.k.value);
  wherePlaced(form, data);
  const hits = await api('POST', '/api/search', data, $('#search-progress'));
  $('#search-result').replaceChildren(el('div', { className: 'grid' }, ...hitCards(hits)));
  if (!hits.length) $('#search-result').append(el('p', {}, 'The gallery is empty.'));
});
async function searchFromVideo(form) {
  const out = $('#search-result');
  const status = el('p', { className: 'muted' });
  out.replaceChildren(status);
  const job = await videoTracks(form, $('#search-progress'), status);
  const blocks = [];
  for (const t of job.tracks) {
    if (!t.usable_crops) { blocks.push(el('div', { className: 'track' }, trackHeading(t), trackCrops(t), el('p', {}, 'Not searched: no usable crop.'))); continue; }
    const hits = await api('POST', `/api/video/jobs/${job.id}/tracks/${t.track}/search?k=${encodeURIComponent(form.k.value || 50)}`);
    blocks.push(el('div', { className: 'track' }, trackHeading(t), trackCrops(t),
      hits.length ? el('div', { className: 'grid' }, ...hitCards(hits)) : el('p', {}, 'The gallery is empty.')));
  }
  out.replaceChildren(el('p', {}, `${plural(job.tracks.length, 'person', 'people')} tracked in ${job.video}:`), ...blocks);
}

// ---- gallery ------------------------------------------------------------------------------------------------
async function loadGallery() {
  const q = $('#gallery-form [name=q]').value;
  let list;
  try { list = await api('GET', `/api/identities?limit=1000&q=${encodeURIComponent(q)}`); }
  catch (e) {
    showMessage(e.message);
    $('#gallery-list').replaceChildren(el('p', {}, 'Not signed in: connect with an API key above to see the gallery.'));
    return;
  }
  $('#gallery-list').replaceChildren(...list.map(i => {
    const del = el('button', { className: 'danger write-only', textContent: 'Delete', type: 'button' });
    del.dataset.testid = `delete-${i.id}`;
    del.addEventListener('click', async ev => {
      ev.stopPropagation();
      if (!confirm(`Erase ${i.name} (#${i.id}) with all ${i.sightings} crops and embeddings?`)) return;
      try {
        await api('DELETE', `/api/identities/${i.id}?reason=${encodeURIComponent('deleted in the web UI')}`);
        showMessage(`Erased ${i.name} (#${i.id}).`, 'info');
        $('#gallery-detail').replaceChildren();
        await loadGallery(); refreshInfo();
      } catch (e) { showMessage(e.message); }
    });
    const card = el('div', { className: 'card clickable' }, crop(i.thumbnail, i.name), el('div', {}, el('strong', {}, i.name)),
      el('div', { className: 'muted' }, `#${i.id} · ${plural(i.sightings, "crop", "crops")}`), del);
    card.dataset.identity = i.id;
    card.addEventListener('click', () => showIdentity(i.id).catch(e => showMessage(e.message)));
    return card;
  }));
  if (!list.length) $('#gallery-list').append(el('p', {}, q ? 'No identity matches.' : 'The gallery is empty: enrol someone.'));
}
async function showIdentity(id) {
  const d = await api('GET', `/api/identities/${id}`);
  const meta = Object.keys(d.identity.metadata || {}).length ? JSON.stringify(d.identity.metadata) : '';
  const only = d.sightings.length === 1;
  const cards = d.sightings.map(s => {
    const card = sightingCard(s, [s.camera, s.source, s.frame != null ? `frame ${s.frame}` : null].filter(Boolean).join(' · ') || `#${s.id}`);
    card.dataset.sighting = s.id;
    if (only) return card;   // an identity keeps one crop at least: removing the last is deleting the identity
    const remove = el('button', { type: 'button', className: 'danger small write-only', textContent: 'Remove' });
    remove.dataset.testid = `remove-sighting-${s.id}`;
    remove.addEventListener('click', async () => {
      if (!confirm(`Remove this crop (#${s.id}) of ${d.identity.name} with its embedding? The other crops stay.`)) return;
      try {
        const r = await api('DELETE', `/api/sightings/${s.id}?reason=${encodeURIComponent('removed in the web UI')}`);
        showMessage(`Removed crop #${r.deleted}: ${d.identity.name} has ${plural(r.sightings_left, 'crop', 'crops')} left.`, 'info');
        await showIdentity(id); await loadGallery(); refreshInfo();
      } catch (e) { showMessage(e.message); }
    });
    card.append(remove);
    return card;
  });
  $('#gallery-detail').replaceChildren(el('h3', {}, `${d.identity.name} (#${d.identity.id})`),
    el('p', { className: 'muted' }, `enrolled ${new Date(d.identity.created).toLocaleString()} ${meta}`),
    el('p', { className: 'muted write-only' }, only ? 'This is the only crop: to remove it, delete the identity.'
      : 'Remove a crop that shows someone else, or the person badly: identification stops using it at once.'),
    el('div', { className: 'grid' }, ...cards));
}
submitWith('#gallery-form', loadGallery);

// ---- calibration on the user's own video ------------------------------------------------------------------------
submitWith('#calibrate-form', async form => {
  const out = $('#calibrate-result');
  const status = el('p', { className: 'muted' });
  out.replaceChildren(status);
  const job = await videoTracks(form, $('#calibrate-progress'), status);
  const data = new FormData();
  data.append('far', form.far.value);
  const r = await api('POST', `/api/video/jobs/${job.id}/calibrate`, data);
  out.replaceChildren(el('p', {}, 'Threshold set to ', el('strong', {}, fmt(r.threshold)),
      `: at most ${fmt(100 * r.far_upper_bound95)}% of strangers accepted (95% confidence), measured ${fmt(100 * r.far)}%`,
      r.tar != null ? `; ${fmt(100 * r.tar)}% of a person's own later appearances accepted.` : '.'),
    el('p', { className: 'muted' }, `From ${r.tracks} tracks: ${r.people_pairs} pairs of people seen together ` +
      `(${r.impostor_comparisons} comparisons of different people, ${r.genuine_comparisons} of the same person).`));
  refreshInfo();
});

// ---- live cameras (reid serve --watch) -------------------------------------------------------------------------
// Events come from GET /api/events (Server-Sent Events). EventSource cannot send the X-Api-Key header and the server
// takes keys from headers only (a key in a URL ends up in logs and history), so the stream is read with fetch() and
// parsed here; on a drop it reconnects with Last-Event-ID and gets what it missed. Tiles fetch their camera's
// annotated frame about once a second, only while this tab is open and the page visible.
const live = { on: false, abort: null, lastId: 0, timer: null, tiles: new Map(), feed: [] };
const KIND_TEXT = { new_identity: 'new person', known_sighting: 'enrolled person', sighting: 'seen again' };
const timeOf = t => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

async function startLive() {
  if (live.on) return;
  live.on = true;
  try {
    const r = await api('GET', '/api/live/cameras');
    $('#live-note').textContent = r.watching
      ? `Watching ${plural(r.cameras.length, 'camera', 'cameras')}; frames refresh about once a second.`
      : 'This server watches no cameras: start it with reid serve --watch cameras.yaml. Events published to it still show below.';
    r.cameras.forEach(updateTile);
    showWebhooks(r.webhooks);
  } catch (e) { showMessage(e.message); live.on = false; return; }
  streamEvents();
  live.timer = setInterval(refreshFrames, 1000);
  refreshFrames();
}

function stopLive() {
  live.on = false;
  if (live.abort) live.abort.abort();
  clearInterval(live.timer);
}

function tileFor(camera) {
  let t = live.tiles.get(camera);
  if (t) return t;
  const img = el('img', { alt: `camera ${camera}` });
  const status = el('span', { className: 'badge' });
  const fps = el('span', { className: 'muted' });
  const error = el('div', { className: 'tile-error' });
  const root = el('div', { className: 'tile' }, el('div', { className: 'tile-frame' }, img),
    el('div', { className: 'tile-head' }, el('strong', {}, camera), status, fps), error);
  root.dataset.camera = camera;
  root.dataset.testid = `tile-${camera}`;
  t = { root, img, status, fps, error, url: null, busy: false };
  live.tiles.set(camera, t);
  $('#live-cameras').append(root);
  return t;
}

function updateTile(s) {
  const t = tileFor(s.camera);
  t.status.textContent = s.status;
  t.status.className = `badge ${s.status}`;
  t.fps.textContent = s.status === 'live' ? `${s.fps.toFixed(1)} fps` + (s.frames_dropped ? ` · ${s.frames_dropped} dropped` : '') : '';
  const err = s.status === 'live' ? s.pipeline_error : (s.last_error || s.pipeline_error);
  t.error.textContent = err || '';
}

function refreshFrames() {
  if (!live.on || document.hidden) return;
  for (const [camera, t] of live.tiles) {
    if (t.busy) continue;
    t.busy = true;
    fetch(`/api/live/cameras/${encodeURIComponent(camera)}/frame.jpg`, { headers: { 'X-Api-Key': state.key } })
      .then(r => r.ok ? r.blob() : null)
      .then(b => {
        if (!b) { t.root.classList.add('no-frame'); return; }
        t.root.classList.remove('no-frame');
        const u = URL.createObjectURL(b);
        t.img.onload = () => { if (t.url && t.url !== u) URL.revokeObjectURL(t.url); t.url = u; };
        t.img.src = u;
      })
      .catch(() => {})
      .finally(() => { t.busy = false; });
  }
}

function showWebhooks(list) {
  $('#live-webhooks').textContent = (list || []).map(w =>
    `webhook ${w.target}: ${w.delivered} delivered, ${w.failed} failed, ${w.dropped} dropped` + (w.last_error ? ` (last error: ${w.last_error})` : '')).join(' · ');
}

async function streamEvents() {
  while (live.on) {
    const ctrl = new AbortController();
    live.abort = ctrl;
    try {
      const r = await fetch('/api/events', { signal: ctrl.signal, headers: { 'X-Api-Key': state.key, 'Last-Event-ID': String(live.lastId) } });
      if (r.status === 401 || r.status === 403) {
        const body = await r.json().catch(() => ({}));
        showMessage(body.error || `HTTP ${r.status}`); live.on = false; return;
      }
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      $('#live-connection').textContent = '· connected';
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const ev = { id: null, type: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) ev.id = Number(line.slice(4));
            else if (line.startsWith('event: ')) ev.type = line.slice(7);
            else if (line.startsWith('data: ')) ev.data += line.slice(6);
          }
          if (ev.data) onLiveEvent(ev);
        }
      }
    } catch (e) {
      if (!live.on) return;
    }
    if (!live.on) return;
    $('#live-connection').textContent = '· reconnecting…';
    await new Promise(res => setTimeout(res, 2000));
  }
}

function onLiveEvent(ev) {
  const d = JSON.parse(ev.data);
  if (ev.id) live.lastId = ev.id;
  if (ev.type === 'status') { updateTile(d); return; }
  if (ev.type === 'gap') {
    if (d.missed && live.lastId === 0) return;   // a first visit: older events were simply before this page
    $('#live-feed').prepend(el('li', { className: 'muted' }, `${d.missed || d.lost} event(s) were lost while this page was away or slow`));
    return;
  }
  const who = el('button', { type: 'button', className: 'link', textContent: d.name });
  who.dataset.identity = d.identity;
  who.addEventListener('click', () => showPath(d.identity, d.name).catch(e => showMessage(e.message)));
  const how = d.event === 'link' ? `linked from ${d.linked_camera}` : (KIND_TEXT[d.event] || d.event);
  const li = el('li', { className: `event ${d.event}` }, el('span', { className: 'when' }, timeOf(d.end)), el('span', { className: 'cam' }, d.camera),
    who, el('span', { className: 'muted' }, ` ${how}` + (d.score != null ? ` · ${fmt(d.score)}` : '')));
  li.dataset.testid = 'live-event';
  // New people change the gallery's counts in the header: refreshed at most every 5 s.
  if (!live.infoSoon) live.infoSoon = setTimeout(() => { live.infoSoon = null; refreshInfo(); }, 5000);
  const feed = $('#live-feed');
  feed.prepend(li);
  while (feed.children.length > 100) feed.lastChild.remove();
}

// A person's path: their stored sightings in time order, grouped into visits (consecutive sightings on one camera),
// drawn as one lane per camera on a shared time axis, then each visit with its crops.
async function showPath(id, name) {
  const d = await api('GET', `/api/identities/${id}`);
  const seen = d.sightings.filter(s => s.captured_at).sort((a, b) => Date.parse(a.captured_at) - Date.parse(b.captured_at));
  const out = $('#live-path');
  if (!seen.length) { out.replaceChildren(el('p', {}, `${d.identity.name}: no sighting with a time.`)); return; }
  const visits = [];
  for (const s of seen) {
    const last = visits[visits.length - 1];
    if (last && last.camera === (s.camera || '?')) last.sightings.push(s);
    else visits.push({ camera: s.camera || '?', sightings: [s] });
  }
  const t0 = Date.parse(seen[0].captured_at), t1 = Date.parse(seen[seen.length - 1].captured_at);
  const span = Math.max(1000, t1 - t0);
  const cameras = [...new Set(visits.map(v => v.camera))];
  const lanes = cameras.map(c => el('div', { className: 'lane' }, el('span', { className: 'lane-name' }, c),
    el('div', { className: 'lane-track' }, ...visits.filter(v => v.camera === c).map(v => {
      const a = Date.parse(v.sightings[0].captured_at), b = Date.parse(v.sightings[v.sightings.length - 1].captured_at);
      return el('div', { className: 'segment', title: `${c} ${timeOf(a)}–${timeOf(b)}`,
        style: `left:${100 * (a - t0) / span}%;width:max(6px, ${100 * (b - a) / span}%)` });
    }))));
  const route = visits.map(v => `${v.camera} ${timeOf(v.sightings[0].captured_at)}`).join(' → ');
  out.replaceChildren(el('h4', {}, `${d.identity.name} (#${d.identity.id})`),
    el('p', { className: 'route' }, route),
    el('div', { className: 'lanes' }, ...lanes, el('div', { className: 'axis muted' }, el('span', {}, timeOf(t0)), el('span', {}, timeOf(t1)))),
    ...visits.map(v => el('div', { className: 'visit' },
      el('div', { className: 'visit-head' }, el('strong', {}, v.camera), ' ',
        el('span', { className: 'muted' }, `${timeOf(v.sightings[0].captured_at)}–${timeOf(v.sightings[v.sightings.length - 1].captured_at)} · ${plural(v.sightings.length, 'crop', 'crops')}`)),
      el('div', { className: 'visit-crops' }, ...v.sightings.slice(0, 8).map(s => crop(s.crop, `${v.camera} ${s.captured_at}`))))));
  out.dataset.identity = id;
}

// ---- start --------------------------------------------------------------------------------------------------
// A one-time link from `reid serve` (…/#signin=CODE): trade the code for a key of this browser's own, then drop it from the address bar.
async function signInFromLink() {
  const m = location.hash.match(/^#signin=([0-9a-f]+)$/);
  if (!m) return refreshInfo();
  history.replaceState(null, '', location.pathname);
  const data = new FormData();
  data.append('code', m[1]);
  const r = await fetch('/signin', { method: 'POST', body: data });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { showMessage(body.error || `sign-in failed (HTTP ${r.status})`); return; }
  state.key = body.key;
  localStorage.setItem('reid.key', state.key);
  $('#api-key').value = state.key;
  if (await refreshInfo()) showMessage('Signed in: this browser now has its own read-write key.', 'info');
}
$('#api-key').value = state.key;
$('#key-form').addEventListener('submit', async ev => {
  ev.preventDefault();
  state.key = $('#api-key').value.trim();
  localStorage.setItem('reid.key', state.key);
  if (await refreshInfo()) showMessage('Connected.', 'info');
});
signInFromLink();   // then shows what the key (stored, or just received) may do

// The top page of framed replay (UI origin): hide/show the banner, and follow the
// reader's navigation inside the archived page's frame. Wombat, in the frame, posts
// {wb_type, url, ts, title}; only messages from the replay origin's frame count, and
// the new banner comes from our own server, never from the message.
(function () {
  "use strict";
  var banner, frame, slug, bannerPath, replayOrigin, current = "";
  var TIMESTAMP = /^[0-9]{14}$/;
  var HTTP_URL = /^https?:\/\//i;

  function bindHide() {
    var button = banner.querySelector(".vellum-hide");
    if (!button) return;
    showState(button);
    button.addEventListener("click", function () {
      banner.classList.toggle("vellum-hidden");
      showState(button);
    });
  }

  function showState(button) {
    var hidden = banner.classList.contains("vellum-hidden");
    button.textContent = hidden ? "show banner" : "hide";
    button.setAttribute("aria-expanded", hidden ? "false" : "true");
    button.title = hidden ? "Show the banner" : "Hide this banner";
  }

  function setTitle(title) {
    if (typeof title === "string" && title) {
      document.title = title.slice(0, 300) + " · archived · Vellum";
    }
  }

  function swap(html) {
    // DOMParser makes an inert document: nothing in it runs.
    var doc = new DOMParser().parseFromString(html, "text/html");
    banner.replaceChildren.apply(banner, Array.prototype.slice.call(doc.body.childNodes));
    bindHide();
  }

  function follow(url, ts) {
    if (typeof url !== "string" || typeof ts !== "string") return;
    if (!TIMESTAMP.test(ts) || !HTTP_URL.test(url) || url.length > 8192) return;
    var key = ts + " " + url;
    if (key === current) return;
    current = key;
    history.replaceState(null, "", "/" + slug + "/" + ts + "/" + url);
    var query = bannerPath + "?collection=" + encodeURIComponent(slug) +
      "&timestamp=" + ts + "&url=" + encodeURIComponent(url.split("#")[0]);
    fetch(query, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && key === current) swap(html);
      })
      .catch(function () {});
  }

  function onMessage(event) {
    if (event.origin !== replayOrigin || !frame || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.wb_type === "load" || data.wb_type === "replace-url") {
      follow(data.url, data.ts);
      setTitle(data.title);
    } else if (data.wb_type === "title") {
      setTitle(data.title);
    }
  }

  function setup() {
    banner = document.getElementById("vellum-banner");
    frame = document.getElementById("vellum-replay");
    if (!banner) return;
    slug = banner.getAttribute("data-collection") || "";
    bannerPath = banner.getAttribute("data-banner-path") || "";
    replayOrigin = banner.getAttribute("data-replay-origin") || window.location.origin;
    var nav = banner.querySelector(".vellum-nav");
    if (nav) current = nav.getAttribute("data-timestamp") + " " + nav.getAttribute("data-url");
    bindHide();
    window.addEventListener("message", onMessage);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();

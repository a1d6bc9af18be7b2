/* "More comments" without leaving the page.

   A long thread comes a page at a time; the link to the next page works as a
   plain link. With JavaScript, following it fetches that page and adds its
   comments below those shown, with its own "More comments" link (if any) in
   place of the one followed; the focus goes to the first comment added, so a
   keyboard or screen reader user carries on reading there. Should the fetch
   fail, the link is followed after all.

   A link made before threads had pages (an older email, a bookmark) may point
   at #comment-N on the norm page while that comment is on a later page: the
   page then goes to the comment's lasting address, which knows where it is. */
(function () {
  "use strict";

  function showMore(link) {
    var paragraph = link.closest(".more-comments");
    var shown = document.querySelectorAll(".discussion .thread-page");
    var last = shown[shown.length - 1];
    link.setAttribute("aria-busy", "true");
    fetch(link.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var comments = page.querySelector(".discussion .thread-page");
        if (!comments || !last) {
          throw new Error("no comments in the page");
        }
        last.after(document.adoptNode(comments));
        var more = page.querySelector(".discussion .more-comments");
        if (more) {
          paragraph.replaceWith(document.adoptNode(more));
        } else {
          paragraph.remove();
        }
        var first = comments.querySelector(".comment");
        if (first) {
          first.setAttribute("tabindex", "-1");
          first.focus();
        }
      })
      .catch(function () {
        window.location.href = link.href;
      });
  }

  function findMissingComment() {
    var match = /^#comment-(\d+)$/.exec(window.location.hash);
    var discussion = document.querySelector(".discussion[data-comment-address]");
    if (match && discussion && !document.getElementById("comment-" + match[1])) {
      window.location.replace(discussion.getAttribute("data-comment-address") + match[1]);
    }
  }

  findMissingComment();
  window.addEventListener("hashchange", findMissingComment);

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-more-comments]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    showMore(link);
  });
})();

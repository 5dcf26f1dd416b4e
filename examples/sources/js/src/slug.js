// Sample code for the tests in slug.test.js: turns a title into a URL slug.

function slugify(title, maxLength = 60) {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");

  return slug.slice(0, maxLength).replace(/-+$/, "");
}

module.exports = { slugify };
